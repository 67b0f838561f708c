import { useCallback, useMemo, useRef, useState } from 'preact/hooks';
import type { Api, TaskChange } from '../api';
import { dueLabel, dueOrder, isOverdue, reminderLabel } from '../format';
import { QuickAdd } from './QuickAdd';
import { BellIcon } from './Reminders';
import { ScheduleEditor } from './ScheduleEditor';
import { memo } from '../memo';
import { useStore } from '../store';
import type { TaskStore } from '../tasks';
import type { Priority, Task } from '../types';
import { TrashIcon } from './Conversations';

type Filter = 'all' | 'pending' | 'completed';
type Sort = 'due' | 'priority' | 'created';

const RANK: Record<Priority, number> = { urgent: 0, high: 1, medium: 2, low: 3 };

const ORDER: Record<Sort, (a: Task, b: Task) => number> = {
  due: (a, b) => dueOrder(a, b) || b.id - a.id,
  priority: (a, b) => RANK[a.priority] - RANK[b.priority] || dueOrder(a, b) || b.id - a.id,
  created: (a, b) => b.id - a.id,
};

export function TaskPanel({ store, api, zone, report }: {
  store: TaskStore; api: Api; zone: string; report: (message: string) => void;
}) {
  const version = useStore(store);
  const [filter, setFilter] = useState<Filter>('all');
  const [sort, setSort] = useState<Sort>('due');
  const [query, setQuery] = useState('');
  const [scheduling, setScheduling] = useState<Task | null>(null);
  // Refusals show in the dialog, so the user can fix the field.
  const saveSchedule = useCallback(
    (task: Task, change: TaskChange) => api.updateTask(task.id, change).then((t) => store.put(t)),
    [api, store],
  );
  const list = useRef<HTMLUListElement>(null);
  const quickAdd = useRef<HTMLInputElement>(null);

  const all = useMemo(() => [...store.tasks.values()], [version]);
  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return all
      .filter((t) => filter === 'all' || (filter === 'completed') === t.completed)
      .filter((t) => !needle || t.title.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle) ||
        t.tags.some((tag) => tag.toLowerCase().includes(needle)))
      .sort(ORDER[sort]);
  }, [all, filter, sort, query]);
  const open = all.filter((t) => !t.completed).length;

  const fail = useCallback((what: string) => (e: unknown) => report(`Couldn't ${what}: ${e instanceof Error ? e.message : e}`), [report]);

  const actions = useMemo(() => ({
    toggle: (task: Task, completed: boolean) => api.setCompleted(task.id, completed).then((t) => store.put(t), fail('update the task')),
    rename: (task: Task, title: string) => api.updateTask(task.id, { title }).then((t) => store.put(t), fail('rename the task')),
    skip: (task: Task) => api.skipTask(task.id).then((t) => store.put(t), fail('skip it')),
    schedule: (task: Task) => setScheduling(task),
    remove: (task: Task, row: HTMLElement | null) => {
      // Keep keyboard focus in the list: on the next row, else the previous, else the add box.
      const next = (row?.nextElementSibling ?? row?.previousElementSibling)?.querySelector<HTMLElement>('input[type=checkbox]');
      return api.deleteTask(task.id).then(() => {
        store.remove(task.id);
        (next ?? quickAdd.current)?.focus();
      }, fail('delete the task'));
    },
  }), [api, store, fail]);

  const added = useCallback((task: Task) => store.put(task), [store]);

  return (
    <aside class="tasks" aria-labelledby="tasks-title">
      <div class="panel-head">
        <h2 id="tasks-title">Tasks</h2>
        <span class="muted count" aria-live="off">{store.loaded ? `${open} open · ${all.length - open} done` : ''}</span>
      </div>
      <QuickAdd api={api} added={added} report={report} input={quickAdd} />
      <div class="toolbar">
        <div class="segmented" role="group" aria-label="Show">
          {(['all', 'pending', 'completed'] as Filter[]).map((f) => (
            <button type="button" key={f} aria-pressed={filter === f} onClick={() => setFilter(f)}>
              {f === 'all' ? 'All' : f === 'pending' ? 'Pending' : 'Completed'}
            </button>
          ))}
        </div>
        <input type="search" aria-label="Search tasks" placeholder="Search" value={query}
          onInput={(e) => setQuery(e.currentTarget.value)} />
        <label class="sort">
          <span>Sort</span>
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)}>
            <option value="due">Due date</option>
            <option value="priority">Priority</option>
            <option value="created">Newest</option>
          </select>
        </label>
      </div>
      {store.error && <p class="error-text pad">Couldn't load tasks: {store.error}</p>}
      {!store.loaded && !store.error && <p class="muted pad">Loading tasks…</p>}
      {store.loaded && shown.length === 0 && (
        <p class="muted pad">{all.length === 0 ? 'No tasks yet. Type one above, or ask the assistant.' : 'Nothing matches.'}</p>
      )}
      <ul class="task-list" ref={list} aria-labelledby="tasks-title">
        {shown.map((task) => <TaskRow key={task.id} task={task} zone={zone} actions={actions} />)}
      </ul>
      <ScheduleEditor task={scheduling} zone={zone} save={saveSchedule} close={() => setScheduling(null)} />
    </aside>
  );
}

interface Actions {
  toggle(task: Task, completed: boolean): Promise<void>;
  rename(task: Task, title: string): Promise<void>;
  skip(task: Task): Promise<void>;
  schedule(task: Task): void;
  remove(task: Task, row: HTMLElement | null): Promise<void>;
}

const TaskRow = memo(function TaskRow({ task, zone, actions }: { task: Task; zone: string; actions: Actions }) {
  const [editing, setEditing] = useState(false);
  // Enter or Escape closes the editor; the blur that follows must not save again.
  const closed = useRef(false);
  const row = useRef<HTMLLIElement>(null);
  const overdue = isOverdue(task, zone);
  const nextReminder = task.reminders
    .filter((r) => !r.fired_at)
    .map((r) => r.at)
    .sort()[0];
  const checkbox = `task-${task.id}`;

  const finish = (input: HTMLInputElement, save: boolean) => {
    if (closed.current) return;
    closed.current = true;
    const title = input.value.trim();
    setEditing(false);
    if (save && title && title !== task.title) void actions.rename(task, title);
    // Back to the title button, so keyboard users stay where they were.
    requestAnimationFrame(() => row.current?.querySelector<HTMLElement>('.title')?.focus());
  };

  return (
    <li class={`task${task.completed ? ' done' : ''}${overdue ? ' overdue' : ''}`} ref={row} data-task-id={task.id}>
      <input type="checkbox" id={checkbox} checked={task.completed} onChange={(e) => void actions.toggle(task, e.currentTarget.checked)}
        aria-label={`Done: ${task.title}`} />
      <div class="body">
        {editing ? (
          <input class="edit" aria-label="Task title" defaultValue={task.title} maxLength={200} autoFocus
            onKeyDown={(e) => {
              if (e.key === 'Enter') finish(e.currentTarget, true);
              else if (e.key === 'Escape') finish(e.currentTarget, false);
            }}
            onBlur={(e) => finish(e.currentTarget, true)} />
        ) : (
          <button type="button" class="title" aria-label={`${task.title}, edit title`} onClick={() => { closed.current = false; setEditing(true); }}>
            {task.title}
          </button>
        )}
        <div class="meta">
          <span class="task-id">#{task.id}</span>
          {task.due_date && (
            <span class="due">
              <time dateTime={task.due_at ?? task.due_date}
                title={task.due_at ? new Date(task.due_at).toLocaleString(undefined, { timeZone: zone, timeZoneName: 'short' }) : `${task.due_date}, all day`}>
                {overdue ? 'overdue · ' : 'due '}{dueLabel(task, zone)}
              </time>
            </span>
          )}
          {task.recurrence && (
            <span class="repeats" title={task.recurrence.rrule}>
              <RepeatIcon /> {task.recurrence.text}
            </span>
          )}
          {nextReminder && (
            <span class="reminder-at" title="Reminder">
              <BellIcon /> {reminderLabel(nextReminder, zone)}
            </span>
          )}
          <span class={`priority ${task.priority}`}>{task.priority}</span>
          {task.tags.map((tag) => <span class="tag" key={tag}>#{tag}</span>)}
        </div>
      </div>
      {!task.completed && (
        <button type="button" class="icon schedule-button" aria-label={`Schedule “${task.title}”`}
          title="Due date, time, repeat and reminder" onClick={() => actions.schedule(task)}>
          <CalendarIcon />
        </button>
      )}
      {task.recurrence && !task.completed && (
        <button type="button" class="quiet small skip-one" aria-label={`Skip this one: “${task.title}”`}
          title="Skip to the next occurrence" onClick={() => void actions.skip(task)}>
          Skip
        </button>
      )}
      <button type="button" class="icon"
        aria-label={task.recurrence ? `Delete task “${task.title}” and all its repeats` : `Delete task “${task.title}”`}
        title="Delete task" onClick={() => void actions.remove(task, row.current)}>
        <TrashIcon />
      </button>
    </li>
  );
});

function RepeatIcon() {
  return (
    <svg viewBox="0 0 24 24" width="12" height="12" aria-hidden="true" focusable="false">
      <path d="M17 2l3 3-3 3M20 5H8a4 4 0 0 0-4 4v1M7 22l-3-3 3-3M4 19h12a4 4 0 0 0 4-4v-1"
        fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

function CalendarIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path d="M7 3v3M17 3v3M4 8h16M5 5h14a1 1 0 0 1 1 1v13a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zM8 12h3v3H8z"
        fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
