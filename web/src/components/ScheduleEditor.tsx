import { useEffect, useRef, useState } from 'preact/hooks';
import type { TaskChange } from '../api';
import { dayIn } from '../format';
import type { Task } from '../types';

/** Repeat presets; "custom" takes an RRULE as typed. */
const PRESETS: [string, string][] = [
  ['', 'Does not repeat'],
  ['FREQ=DAILY', 'Every day'],
  ['FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', 'Every weekday'],
  ['FREQ=WEEKLY', 'Every week'],
  ['FREQ=WEEKLY;INTERVAL=2', 'Every other week'],
  ['FREQ=MONTHLY', 'Every month'],
  ['FREQ=MONTHLY;BYMONTHDAY=-1', 'Every month, last day'],
  ['FREQ=YEARLY', 'Every year'],
  ['custom', 'Custom…'],
];

/** Reminder choices, in minutes before the due time; "" is none. */
const REMINDERS: [string, string][] = [
  ['', 'No reminder'],
  ['0', 'At the due time'],
  ['10', '10 minutes before'],
  ['30', '30 minutes before'],
  ['60', '1 hour before'],
  ['1440', '1 day before'],
];

/** `HH:MM` of `instant` on the wall clock of `zone`. */
function timeIn(zone: string, instant: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(instant));
}

/**
 * A task's due date and time, repeat rule and reminder, set without the
 * chat: one small native dialog for the whole list (focus stays in it,
 * Escape cancels), open while `task` is set.
 */
export function ScheduleEditor({ task, zone, save, close }: {
  task: Task | null; zone: string; save: (task: Task, change: TaskChange) => Promise<void>; close: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const [repeat, setRepeat] = useState('');
  const [custom, setCustom] = useState('');
  const [fromCompletion, setFromCompletion] = useState(false);
  const [remind, setRemind] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!task) return;
    setDate(task.due_date ?? '');
    setTime(task.due_at ? timeIn(zone, task.due_at) : '');
    const rrule = task.recurrence?.rrule ?? '';
    const preset = PRESETS.some(([value]) => value === rrule) ? rrule : 'custom';
    setRepeat(rrule === '' ? '' : preset);
    setCustom(preset === 'custom' ? rrule : '');
    setFromCompletion(task.recurrence?.anchor === 'completion');
    const relative = task.reminders.find((r) => r.before_due_minutes !== null && r.before_due_minutes !== undefined);
    setRemind(relative ? String(relative.before_due_minutes) : '');
    setError(null);
    dialog.current?.showModal();
  }, [task]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || !task) return;
    const rrule = repeat === 'custom' ? custom.trim() : repeat;
    const day = date || (rrule || time ? dayIn(zone) : '');
    const change: TaskChange = {
      // A time without a day is today's; a wall time is the account zone's.
      due_date: day || null,
      due_at: day && time ? `${day}T${time}` : null,
      recurrence: rrule ? { rrule, anchor: fromCompletion ? 'completion' : 'due' } : null,
      reminders: [
        // Reminders at a fixed time stay; the relative one is what this form sets.
        ...task.reminders.filter((r) => r.before_due_minutes == null && !r.fired_at).map((r) => ({ at: r.at })),
        ...(remind !== '' && day ? [{ before_due_minutes: Number(remind) }] : []),
      ],
    };
    setBusy(true);
    try {
      await save(task, change);
      dialog.current?.close();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="zone-settings schedule" aria-labelledby="schedule-title" onClose={close}>
      {task && (
        <form onSubmit={submit}>
          <h2 id="schedule-title">Schedule “{task.title}”</h2>
          <p class="muted">Dates and times are in {zone}.</p>
          <div class="row">
            <label>
              <span>Due date</span>
              <input type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />
            </label>
            <label>
              <span>Time (optional)</span>
              <input type="time" value={time} onInput={(e) => setTime(e.currentTarget.value)} />
            </label>
          </div>
          <label>
            <span>Repeat</span>
            <select value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)}>
              {PRESETS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </label>
          {repeat === 'custom' && (
            <label>
              <span>Rule (RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=3FR)</span>
              <input value={custom} onInput={(e) => setCustom(e.currentTarget.value)} required spellcheck={false} />
            </label>
          )}
          {repeat !== '' && (
            <label class="check">
              <input type="checkbox" checked={fromCompletion} onChange={(e) => setFromCompletion(e.currentTarget.checked)} />
              <span>Count the next one from when it is done</span>
            </label>
          )}
          <label>
            <span>Reminder</span>
            <select value={remind} onChange={(e) => setRemind(e.currentTarget.value)}>
              {REMINDERS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </label>
          {error && <p class="error-text" role="alert">{error}</p>}
          <div class="actions">
            <button type="submit" aria-disabled={busy}>Save</button>
            <button type="button" class="quiet" onClick={() => dialog.current?.close()}>Cancel</button>
          </div>
        </form>
      )}
    </dialog>
  );
}
