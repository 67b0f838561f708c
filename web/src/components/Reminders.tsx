import { useState } from 'preact/hooks';
import type { ReminderDue } from '../api-types';
import { notifyState, turnOff, turnOn, type NotifyState } from '../reminders';

/** The top bar's switch for browser notifications of reminders. */
export function ReminderSwitch({ report }: { report: (message: string) => void }) {
  const [state, setState] = useState<NotifyState>(notifyState);
  if (state === 'unsupported') return null;
  const click = async () => {
    if (state === 'on') {
      setState(turnOff());
      report('Reminder notifications are off. Reminders still show in the page.');
      return;
    }
    const next = await turnOn();
    setState(next);
    report(
      next === 'on'
        ? 'Reminder notifications are on.'
        : 'This browser blocks notifications for this site. Reminders still show in the page.',
    );
  };
  return (
    <button type="button" class="quiet reminder-switch" aria-pressed={state === 'on'} onClick={() => void click()}
      title={state === 'blocked' ? 'Notifications are blocked in the browser settings' : undefined}>
      <BellIcon /> <span class="label">{state === 'on' ? 'Reminders on' : 'Reminders off'}</span>
    </button>
  );
}

/** Reminders that came due while the page was open; each can be dismissed. */
export function ReminderBanner({ due, dismiss }: { due: ReminderDue[]; dismiss: (r: ReminderDue) => void }) {
  if (due.length === 0) return null;
  return (
    <section class="reminders" role="alert" aria-label="Reminders">
      {due.map((r) => (
        <p key={`${r.task_id}-${r.at}`} class="reminder">
          <BellIcon /> <span>{r.message.content}</span>
          <button type="button" class="quiet small" aria-label={`Dismiss: ${r.message.content}`} onClick={() => dismiss(r)}>
            Dismiss
          </button>
        </p>
      ))}
    </section>
  );
}

export function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15L6 16zM10 20a2 2 0 0 0 4 0"
        fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
