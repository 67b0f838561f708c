// The user's tasks, kept whole in the page and live from task.* events.
import type { Api } from './api';
import type { LiveEvent } from './events';
import { Snapshotting, Store } from './store';
import type { Task } from './types';

export class TaskStore extends Store {
  readonly tasks = new Map<number, Task>();
  loaded = false;
  error: string | null = null;
  private snapshots = new Snapshotting<LiveEvent>();

  constructor(private readonly api: Api) {
    super();
  }

  async load(): Promise<void> {
    try {
      await this.snapshots.load(
        () => this.api.allTasks(),
        (tasks) => {
          this.tasks.clear();
          for (const task of tasks) this.tasks.set(task.id, task);
        },
        (event) => this.applyQuietly(event),
      );
      this.loaded = true;
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
    this.changed();
  }

  /** A task.* event from the stream. */
  apply(event: LiveEvent): void {
    this.snapshots.note(event);
    if (this.applyQuietly(event)) this.changed();
  }

  /** The server's answer to one of our own changes (the event follows; both are idempotent). */
  put(task: Task): void {
    const known = this.tasks.get(task.id);
    if (known && Date.parse(known.updated_at) > Date.parse(task.updated_at)) return;
    this.tasks.set(task.id, task);
    this.changed();
  }

  /** A reminder fired (`reminder.due`): the task's reminders up to it are past. */
  reminderFired(taskId: number, at: string, firedAt: string): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    const reminders = task.reminders.map((r) =>
      !r.fired_at && Date.parse(r.at) <= Date.parse(at) ? { ...r, fired_at: firedAt } : r,
    );
    this.tasks.set(taskId, { ...task, reminders });
    this.changed();
  }

  remove(id: number): void {
    if (this.tasks.delete(id)) this.changed();
  }

  private applyQuietly(event: LiveEvent): boolean {
    switch (event.type) {
      case 'task.created':
      case 'task.updated':
        this.tasks.set(event.data.id, event.data);
        return true;
      case 'task.deleted':
        return this.tasks.delete(event.data.id);
      default:
        return false;
    }
  }
}
