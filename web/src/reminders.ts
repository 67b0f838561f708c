// Reminders in the page (issue 21): browser notifications, only once the
// user turned them on (the page asks for permission then, never before).

import type { ReminderDue } from './api-types';

const KEY = 'todo-chat.notify';

export type NotifyState = 'on' | 'off' | 'blocked' | 'unsupported';

export function notifyState(): NotifyState {
  if (!('Notification' in window)) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  return localStorage.getItem(KEY) === '1' && Notification.permission === 'granted' ? 'on' : 'off';
}

/** Asks the browser (this is the user's click), and remembers the answer. */
export async function turnOn(): Promise<NotifyState> {
  if (!('Notification' in window)) return 'unsupported';
  const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? 'blocked' : 'off';
  localStorage.setItem(KEY, '1');
  return 'on';
}

export function turnOff(): NotifyState {
  localStorage.removeItem(KEY);
  return notifyState();
}

/** A notification for `reminder`, when they are on; one per reminder across tabs (its tag). */
export function notify(reminder: ReminderDue): void {
  if (notifyState() !== 'on') return;
  try {
    new Notification('Todo Chat', {
      body: reminder.message.content,
      tag: `reminder-${reminder.task_id}-${reminder.at}`,
    });
  } catch {
    // Some browsers allow notifications only from a service worker: the banner still shows.
  }
}
