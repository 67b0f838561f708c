// The public REST API, exactly as a third-party client would call it.
import type { ChatMessage, Conversation, Priority, QuickAddPreview, Session, Task, TextRange, User } from './types';

/** An error answer of the API (`{"error": {code, message, field?}}`) or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  get offline(): boolean {
    return this.status === 0;
  }
}

type Body = Record<string, unknown> | undefined;

async function call<T>(method: string, path: string, token: string | null, body?: Body, extra?: HeadersInit): Promise<T> {
  const headers = new Headers(extra);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (body !== undefined) headers.set('content-type', 'application/json');
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'offline', 'Cannot reach the server. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json?.error ?? {};
    const retry = Number(response.headers.get('retry-after'));
    throw new ApiError(
      response.status,
      error.code ?? 'http_error',
      error.message ?? `The server answered ${response.status}.`,
      error.field,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  return json as T;
}

export interface TaskChange {
  title?: string;
  description?: string | null;
  priority?: Priority;
  tags?: string[] | null;
  due_date?: string | null;
  due_at?: string | null;
  recurrence?: { rrule: string; anchor?: 'due' | 'completion' } | null;
  reminders?: ({ at: string } | { before_due_minutes: number })[] | null;
  completed?: boolean;
}

/** 202 (queued); 200 with the turn when a retry found it finished already. */
export interface Posted {
  conversation_id: string;
  message_id: string;
  status: string;
}

/** Calls on behalf of one signed-in user. */
export class Api {
  private readonly base: string;

  constructor(
    readonly session: Session,
    private readonly onUnauthorized: () => void,
  ) {
    this.base = `/api/${encodeURIComponent(session.user.id)}`;
  }

  private async call<T>(method: string, path: string, body?: Body, extra?: HeadersInit): Promise<T> {
    try {
      return await call<T>(method, path, this.session.token, body, extra);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.onUnauthorized();
      throw e;
    }
  }

  /** Every task, page by page (the list is kept whole in the page and filtered there). */
  async allTasks(): Promise<Task[]> {
    const tasks: Task[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '200', sort: 'created', order: 'asc' });
      if (cursor) query.set('cursor', cursor);
      const page: { tasks: Task[]; next_cursor: string | null } = await this.call('GET', `${this.base}/tasks?${query}`);
      tasks.push(...page.tasks);
      cursor = page.next_cursor;
    } while (cursor);
    return tasks;
  }

  /** What quick add would make of `text`, with the `keep` ranges left as words. */
  previewQuickAdd(text: string, keep: TextRange[]): Promise<QuickAddPreview> {
    return this.call('POST', `${this.base}/tasks/quick-add/preview`, { text, keep });
  }

  /** Creates the task `previewQuickAdd` shows for the same text and ranges. */
  quickAdd(text: string, keep: TextRange[]): Promise<Task> {
    return this.call('POST', `${this.base}/tasks/quick-add`, { text, keep });
  }

  updateTask(id: number, change: TaskChange): Promise<Task> {
    return this.call('PUT', `${this.base}/tasks/${id}`, change as Body);
  }

  setCompleted(id: number, completed: boolean): Promise<Task> {
    return this.call('PATCH', `${this.base}/tasks/${id}/complete`, { completed });
  }

  /** A recurring task goes with its whole series. */
  deleteTask(id: number): Promise<unknown> {
    return this.call('DELETE', `${this.base}/tasks/${id}?scope=series`);
  }

  /** A recurring task to its next occurrence, this one not done. */
  skipTask(id: number): Promise<Task> {
    return this.call('POST', `${this.base}/tasks/${id}/skip`);
  }

  conversations(cursor: string | null): Promise<{ conversations: Conversation[]; next_cursor: string | null }> {
    const query = new URLSearchParams({ limit: '30' });
    if (cursor) query.set('cursor', cursor);
    return this.call('GET', `${this.base}/conversations?${query}`);
  }

  deleteConversation(id: string): Promise<void> {
    return this.call('DELETE', `${this.base}/conversations/${id}`);
  }

  /** A conversation's whole history, in order. */
  async messages(conversation: string): Promise<ChatMessage[]> {
    const all: ChatMessage[] = [];
    for (;;) {
      const after = all.length ? all[all.length - 1].seq : 0;
      const page: { messages: ChatMessage[] } = await this.call(
        'GET',
        `${this.base}/conversations/${conversation}/messages?after=${after}&limit=500`,
      );
      all.push(...page.messages);
      if (page.messages.length < 500) return all;
    }
  }

  /** `key` is the message's Idempotency-Key: the same on a retry, so a post whose answer was lost is not stored twice. */
  send(message: string, conversation: string | null, key: string): Promise<Posted> {
    const body = conversation ? { message, conversation_id: conversation } : { message };
    return this.call('POST', `${this.base}/chat`, body, { 'idempotency-key': key });
  }

  logout(): Promise<void> {
    return call('POST', '/api/auth/logout', this.session.token);
  }

  me(): Promise<{ user: User }> {
    return this.call('GET', '/api/auth/me');
  }

  setTimeZone(time_zone: string): Promise<{ user: User }> {
    return this.call('PATCH', '/api/auth/me', { time_zone });
  }
}

/** The browser's IANA time zone, if it says. */
export function browserZone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

/** Signs up in the browser's time zone; in UTC should the server not know that zone. */
export async function signup(email: string, password: string, name: string): Promise<Session> {
  const body: Record<string, string> = { email, password };
  if (name) body.name = name;
  const zone = browserZone();
  if (zone) {
    try {
      return await call('POST', '/api/auth/signup', null, { ...body, time_zone: zone });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 422)) throw e;
    }
  }
  return call('POST', '/api/auth/signup', null, body);
}

export function login(email: string, password: string): Promise<Session> {
  return call('POST', '/api/auth/login', null, { email, password });
}
