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

/** A task as typed, with the parts the user chose to keep as words. */
export interface QuickAddInput {
  /** Ranges of `text` whose words stay in the title, unread: the chips the user dismissed, as `start` and `end` of a chip. Offsets count Unicode code points (what `Array.from(text)` counts in JavaScript); a range past the text's end is cut to it, an empty one keeps nothing. */
  keep?: TextRange[];
  /** The task in words: title, and any of date, time, recurrence, priority (`p1`-`p4`, "urgent"), `#tags` and a reminder. Words in quotes are title. At most 1,000 characters. */
  text: string;
}

/** `text[start..end]`, in Unicode code points. */
export interface TextRange {
  end: number;
  start: number;
}

/** What quick add would create, before it does. */
export interface QuickAddPreview {
  /** The recognised parts, in the order they stand in the text. */
  chips: Chip[];
  problem: ErrorDetail | null;
  task: NewTask | null;
  /** The title: the text without what was recognised (may be empty). */
  title: string;
}

/** A recognised part of the text. */
export interface Chip {
  end: number;
  kind: ChipKind;
  /** What they mean, on the user's clock. */
  label: string;
  /** Where it stands in `text`, in Unicode code points; send it back in `keep` to dismiss it. */
  start: number;
  /** The words, as typed. */
  text: string;
}

/** What a recognised part sets. */
export type ChipKind = "date" | "time" | "date_time" | "recurrence" | "priority" | "tag" | "reminder";

export interface ErrorDetail {
  /** Stable and machine-readable, e.g. `validation_failed`, `not_found`. */
  code: string;
  /** The offending input (a body field's JSON path or a parameter), when known. */
  field: string | null;
  /** For people; 5xx messages never carry internal details. */
  message: string;
}

/** Raw fields of a new task. */
export interface NewTask {
  /** At most 2000 characters once trimmed; may span lines. `null` or empty clears it. */
  description: string | null;
  /** When it is due, at a time of day: an RFC 3339 timestamp (`2026-12-24T17:00:00Z`), or a wall time in the user's time zone (`2026-12-24T18:00`). `null` clears the due date unless `due_date` is sent. */
  due_at: string | null;
  /** The day it is due, all day (`YYYY-MM-DD`, the user's day). With `due_at` it must be that time's day. `null` clears the due date unless `due_at` is sent. */
  due_date: string | null;
  priority: Priority | null;
  recurrence: RecurrenceInput | null;
  /** At most 10: `{"at": timestamp}` or `{"before_due_minutes": N}`. */
  reminders: ReminderInput[] | null;
  /** At most 10 tags; repeats (compared lower-cased) are dropped. `null` clears them. */
  tags: string[] | null;
  /** 1 to 200 characters once leading and trailing white space is trimmed; one line, no control characters. */
  title: string;
}

/** What a caller sends: `{"rrule": "FREQ=WEEKLY;BYDAY=MO", "anchor": "due"}`. `text` is ours to write; one sent back (a client echoing a task) is ignored. */
export interface RecurrenceInput {
  anchor: Anchor | null;
  /** An RFC 5545 RRULE: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, BYDAY (with ordinals: 3FR, -1FR), BYMONTHDAY (-1 is the last day), BYMONTH, BYSETPOS, BYHOUR, BYMINUTE, COUNT or UNTIL. */
  rrule: string;
  /** Ignored: the API writes the rule in words itself. */
  text: string | null;
}

/** What a caller sends: `{"at": "2026-12-08T17:00:00Z"}` or `{"before_due_minutes": 30}`. */
export interface ReminderInput {
  /** An RFC 3339 instant. */
  at: string | null;
  /** Minutes before the task is due (0 to 525600). */
  before_due_minutes: number | null;
  /** Ignored (the server's own record). */
  fired_at: string | null;
}
