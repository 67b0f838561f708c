// Generated from the API's /openapi.json by api/tests/it/web_types.rs; do not edit.
// After an API change: UPDATE_API_TYPES=1 cargo test -p todo-api --test it web_types

/** A task as stored and as returned by every front door. */
export interface Task {
  completed: boolean;
  /** When it was last marked done; null while pending. */
  completed_at: string | null;
  created_at: string;
  /** Empty when the task has none. */
  description: string;
  /** When it is due, for a task due at a time of day; null for a task due all day (or not due). */
  due_at: string | null;
  /** The day it is due, in the user's time zone; null when not due. */
  due_date: string | null;
  id: TaskId;
  priority: Priority;
  recurrence: Recurrence | null;
  /** When to remind the user, each with its resolved time and when it fired. */
  reminders: Reminder[];
  /** Lower-cased, distinct, in the order given. */
  tags: string[];
  title: string;
  updated_at: string;
  user_id: UserId;
}

/** Todoist's p4..p1, in sort order (the database enum's order too). */
export type Priority = "low" | "medium" | "high" | "urgent";

/** In the API document: what [`Recurrence`]'s `Serialize` writes. */
export interface Recurrence {
  anchor: Anchor;
  /** The rule, as RFC 5545 RRULE text in a fixed part order. */
  rrule: string;
  /** The series' first occurrence, on the user's wall clock. */
  start: string;
  /** The rule in plain words. */
  text: string;
}

/** What the next occurrence counts from. */
export type Anchor = "due" | "completion";

/** One reminder as stored and shown. */
export interface Reminder {
  /** When it fires (resolved: for a relative reminder, the task's due time minus the minutes; 09:00 on the day for a task due all day). */
  at: string;
  /** Set for a reminder relative to the due date. */
  before_due_minutes: number | null;
  /** When it fired; null until then. A relative reminder whose task moves is due again at its new time. */
  fired_at: string | null;
}

/** A task's id: its number in its user's list (`tasks.number`: 1, 2, 3... in creation order, never reused), positive. The table's own key stays inside the database. */
export type TaskId = number;

/** An opaque user id: ours are UUIDv7 strings, Better Auth's are its own. */
export type UserId = string;

/** A conversation as clients see it. */
export interface Conversation {
  created_at: string;
  id: string;
  /** The newest user message or final answer, for list previews. */
  last_message: string | null;
  title: string;
  updated_at: string;
}

/** A stored message as clients see it. */
export interface ChatMessage {
  content: string;
  conversation_id: string;
  created_at: string;
  error: string | null;
  id: string;
  /** User messages: the `Idempotency-Key` they were posted with, so a client can tell its own messages when they come back as events. */
  idempotency_key: string | null;
  is_final: boolean;
  metadata: Record<string, unknown>;
  /** Assistant and tool messages: the user message they answer. */
  reply_to: string | null;
  role: MessageRole;
  seq: number;
  status: MessageStatus;
  tool_call_id: string | null;
  /** Assistant messages that asked for tools: `[{id, name, arguments}]`. */
  tool_calls: (Record<string, unknown>)[] | null;
  tool_name: string | null;
}

/** Who wrote a message (the `messages.role` column's CHECK values). */
export type MessageRole = "user" | "assistant" | "tool";

/** Where a message (for a user message: its turn) stands (the `messages.status` column's CHECK values). */
export type MessageStatus = "queued" | "processing" | "completed" | "failed";

/** One event of `GET /api/{user_id}/events`: `type` is the SSE `event:` name, `data` its parsed JSON, `id` the user's event number (durable events only). */
export type ServerEvent =
  | { type: 'task.created'; id: number; data: Task }
  | { type: 'task.updated'; id: number; data: Task }
  | { type: 'task.deleted'; id: number; data: Task }
  | { type: 'task.completed'; id: number; data: TaskCompleted }
  | { type: 'reminder.due'; id: number; data: ReminderDue }
  | { type: 'conversation.created'; id: number; data: Conversation }
  | { type: 'conversation.deleted'; id: number; data: ConversationDeleted }
  | { type: 'message.created'; id: number; data: ChatMessage }
  | { type: 'message.processing'; id: number; data: MessageProcessing }
  | { type: 'tool.called'; id: number; data: ToolCalled }
  | { type: 'message.completed'; id: number; data: MessageEnded }
  | { type: 'message.failed'; id: number; data: MessageEnded }
  | { type: 'message.delta'; id: null; data: MessageDelta }
  | { type: 'message.queued'; id: null; data: MessageQueued }
  | { type: 'message.restarted'; id: null; data: MessageRestarted }
  | { type: 'resync'; id: null; data: Resync }
  | { type: 'session.expired'; id: null; data: SessionExpired };

/** `conversation.deleted`. */
export interface ConversationDeleted {
  id: string;
}

/** `message.delta`. */
export interface MessageDelta {
  conversation_id: string;
  /** Text to append to the answer shown so far. */
  delta: string;
  message_id: string;
}

/** `message.completed` and `message.failed`. */
export interface MessageEnded {
  conversation_id: string;
  /** The stored final answer. */
  message: ChatMessage;
  /** The user message this answers. */
  message_id: string;
  /** `message.failed` only (null on `message.completed`). */
  reason: string | null;
}

/** `message.processing`. */
export interface MessageProcessing {
  /** 1 for the first try. */
  attempt: number;
  conversation_id: string;
  message_id: string;
}

/** `message.queued`. */
export interface MessageQueued {
  conversation_id: string;
  expected_wait_ms: number;
  message_id: string;
}

/** `message.restarted`. */
export interface MessageRestarted {
  conversation_id: string;
  message_id: string;
}

/** `reminder.due`: a task's reminder fired. Several of one task that came due together (missed while everything was down) are one. */
export interface ReminderDue {
  /** When it was meant to fire (the latest, for several at once). */
  at: string;
  due_at: string | null;
  due_date: string | null;
  fired_at: string;
  /** Fired more than a minute after its time. */
  late: boolean;
  /** The assistant message it left in the user's latest conversation. */
  message: ChatMessage;
  /** How many of the task's reminders this stands for. */
  reminders: number;
  task_id: TaskId;
  title: string;
}

/** `resync`: the events after the client's id are no longer kept. */
export interface Resync {
  /** Where the stream continues. */
  last_event_id: number;
  reason: string;
}

/** `session.expired`: the stream's last frame. */
export interface SessionExpired {
  message: string;
  /** `token expired` or `token revoked`. */
  reason: string;
}

/** `task.completed`: the occurrence that was done, and the task as it moved to its next one (kept in `task_completions`). */
export interface TaskCompleted {
  completed_at: string;
  /** Its time, for a task due at one. */
  due_at: string | null;
  /** The day the done occurrence was due. */
  due_date: string;
  task: Task;
}

/** `tool.called`. */
export interface ToolCalled {
  arguments: Record<string, unknown>;
  conversation_id: string;
  message_id: string;
  /** The tool, e.g. `add_task`. */
  name: string;
  result: Record<string, unknown>;
  tool_call_id: string;
}
