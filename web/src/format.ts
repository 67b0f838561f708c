// Words for dates and tool calls, as people say them.
import type { ToolCall } from './types';

const DAY = 86_400_000;

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "today", "tomorrow", "Fri", "Dec 3", "Dec 3, 2027" (local time; a time when it is not midnight). */
export function dueLabel(iso: string, now = new Date()): string {
  const due = new Date(iso);
  const days = Math.round((startOfDay(due) - startOfDay(now)) / DAY);
  let day: string;
  if (days === 0) day = 'today';
  else if (days === 1) day = 'tomorrow';
  else if (days === -1) day = 'yesterday';
  else if (days > 1 && days < 7) day = due.toLocaleDateString(undefined, { weekday: 'short' });
  else if (due.getFullYear() === now.getFullYear()) day = due.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  else day = due.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: 'numeric' });
  // Midnight and 23:59 both mean "that day" (the assistant uses the end of the day).
  const wholeDay = (due.getHours() === 0 && due.getMinutes() === 0) || (due.getHours() === 23 && due.getMinutes() === 59);
  return wholeDay ? day : `${day} ${due.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' })}`;
}

export function isOverdue(due: string | null, completed: boolean, now = Date.now()): boolean {
  return !completed && due !== null && Date.parse(due) < now;
}

/** A tool call as a short chip: "added: buy milk · due Fri", "completed #3". */
export function chipText(call: ToolCall): { text: string; failed: boolean } {
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
      const due = result.due_at ? ` · due ${dueLabel(result.due_at)}` : '';
      const priority = result.priority === 'high' ? ' · high priority' : '';
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
