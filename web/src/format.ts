// Words for dates and tool calls, as people say them.
import type { ToolCall } from './types';

const DAY = 86_400_000;

/** The browser's own zone: the fallback until the account's is known. */
export const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** `YYYY-MM-DD` of `instant` on the wall clock of `zone`. */
export function dayIn(zone: string, instant: Date = new Date()): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

function dayNumber(ymd: string): number {
  const [y, m, d] = ymd.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / DAY;
}

/** When a task is due, as stored: a day (all day), with a time when it has one. */
export interface Due {
  due_date: string | null;
  due_at: string | null;
}

/**
 * "today", "tomorrow", "Fri", "Dec 3", "Dec 3, 2027", with the time for a task
 * due at one ("today 18:00"), all on the wall clock of the user's `zone`.
 */
export function dueLabel(due: Due, zone: string, now = new Date()): string {
  if (!due.due_date) return '';
  const days = dayNumber(due.due_date) - dayNumber(dayIn(zone, now));
  // The day itself has no zone: format it as the UTC date it names.
  const date = new Date(dayNumber(due.due_date) * DAY);
  const sameYear = due.due_date.slice(0, 4) === dayIn(zone, now).slice(0, 4);
  let day: string;
  if (days === 0) day = 'today';
  else if (days === 1) day = 'tomorrow';
  else if (days === -1) day = 'yesterday';
  else if (days > 1 && days < 7) day = date.toLocaleDateString(undefined, { weekday: 'short', timeZone: 'UTC' });
  else if (sameYear) day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  else day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  if (!due.due_at) return day;
  const time = new Date(due.due_at).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit', timeZone: zone });
  return `${day} ${time}`;
}

/** "reminder today 17:30": when a reminder fires, on the user's clock. */
export function reminderLabel(at: string, zone: string, now = new Date()): string {
  const day = dayIn(zone, new Date(at));
  return `reminder ${dueLabel({ due_date: day, due_at: at }, zone, now)}`;
}

/** Past due and not done: a timed task after its instant, an all-day one after its day. */
export function isOverdue(task: Due & { completed: boolean }, zone: string, now = new Date()): boolean {
  if (task.completed || !task.due_date) return false;
  if (task.due_at) return Date.parse(task.due_at) < now.getTime();
  return task.due_date < dayIn(zone, now);
}

/** Sort key: by day, all-day first within a day, then by time; no date last. */
export function dueOrder(a: Due, b: Due): number {
  return (a.due_date ?? '\uffff').localeCompare(b.due_date ?? '\uffff') ||
    (a.due_at === null ? 0 : 1) - (b.due_at === null ? 0 : 1) ||
    (a.due_at ?? '').localeCompare(b.due_at ?? '');
}

/** A tool call as a short chip: "added: buy milk · due Fri", "completed #3". */
export function chipText(call: ToolCall, zone: string): { text: string; failed: boolean } {
  const result = call.result as any;
  if (result && typeof result === 'object' && !Array.isArray(result) && typeof result.error === 'string') {
    const verb = call.name.replace(/_task$|_tasks$/, '').replace(/_/g, ' ');
    return { text: `couldn't ${verb}: ${result.error}`, failed: true };
  }
  if (Array.isArray(result)) {
    return { text: result.length === 1 ? 'listed 1 task' : `listed ${result.length} tasks`, failed: false };
  }
  const id = result?.task_id !== undefined ? `#${result.task_id}` : '';
  const title = typeof result?.title === 'string' ? result.title : '';
  switch (result?.status) {
    case 'created': {
      const due = result.due_date ? ` · due ${dueLabel({ due_date: result.due_date, due_at: result.due_at ?? null }, zone)}` : '';
      const priority = result.priority === 'high' || result.priority === 'urgent' ? ` · ${result.priority} priority` : '';
      return { text: `added: ${title}${due}${priority}`, failed: false };
    }
    case 'completed':
      return { text: `completed ${id}`, failed: false };
    case 'deleted':
      return { text: `deleted ${id}${title ? `: ${title}` : ''}`, failed: false };
    case 'updated':
      return {
        text: call.name === 'complete_task' ? `reopened ${id}` : `updated ${id}${title ? `: ${title}` : ''}`,
        failed: false,
      };
    default:
      return { text: call.name.replace(/_/g, ' '), failed: false };
  }
}
