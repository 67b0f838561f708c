// Conversations and their turns, from the REST history and live events.
// A turn is one user message with everything that answers it: tool calls,
// streamed text, the final answer or the failure. Turns are kept by message
// id whatever their conversation's load state, so an event is never lost
// to a race with a history load; both sources merge by ids.
import { ApiError, type Api } from './api';
import type { LiveEvent } from './events';
import { Snapshotting, Store } from './store';
import type { ChatMessage, Conversation, ToolCall } from './types';

export type TurnState = 'sending' | 'unsent' | 'queued' | 'processing' | 'completed' | 'failed';

export interface Turn {
  /** Stable key for rendering: a local id until the server names the message. */
  key: string;
  messageId: string | null;
  conversationId: string | null;
  seq: number;
  text: string;
  state: TurnState;
  /** While the model's rate limit holds the turn: when it expects to go (ms since epoch). */
  waitUntil: number | null;
  /** The answer as it streams in (message.delta). */
  streamed: string;
  tools: ToolCall[];
  answer: string | null;
  /** Why it failed (message.failed), or why it could not be sent. */
  error: string | null;
  /** The Idempotency-Key of a message sent from this page, kept for its retries. */
  sendKey?: string;
  /** Unsent for want of a connection: sent again when the event stream is back. */
  retryWhenOnline?: boolean;
  /** An assistant message of its own, not an answer (a reminder). */
  notice?: boolean;
}

interface Thread {
  status: 'loading' | 'ready' | 'error';
  error?: string;
}

let localIds = 0;

export class ChatStore extends Store {
  conversations: Conversation[] = [];
  nextCursor: string | null = null;
  listLoaded = false;
  listError: string | null = null;
  /** The open conversation; null for a new one not yet sent. */
  current: string | null = null;
  private turns = new Map<string, Turn>();
  /** Turns of the conversation not created yet (the first message is on its way). */
  private drafts: Turn[] = [];
  /** The id of the conversation the first draft is creating, once its post answers. */
  private creating: Promise<string | null> | null = null;
  private threads = new Map<string, Thread>();
  private listSnapshots = new Snapshotting<LiveEvent>();

  constructor(private readonly api: Api) {
    super();
  }

  // ---- reading ------------------------------------------------------------

  thread(conversation: string | null): { status: Thread['status'] | 'new'; error?: string; turns: Turn[] } {
    if (conversation === null) return { status: 'new', turns: this.drafts };
    const thread = this.threads.get(conversation) ?? { status: 'loading' };
    const turns = [...this.turns.values()]
      .filter((t) => t.conversationId === conversation && (t.text !== '' || t.notice))
      .sort((a, b) => a.seq - b.seq);
    return { ...thread, turns };
  }

  // ---- loading ------------------------------------------------------------

  async loadConversations(more = false): Promise<void> {
    const cursor = more ? this.nextCursor : null;
    if (more && !cursor) return;
    try {
      if (more) {
        const page = await this.api.conversations(cursor);
        const known = new Set(this.conversations.map((c) => c.id));
        this.conversations.push(...page.conversations.filter((c) => !known.has(c.id)));
        this.nextCursor = page.next_cursor;
      } else {
        await this.listSnapshots.load(
          () => this.api.conversations(null),
          (page) => {
            this.conversations = page.conversations;
            this.nextCursor = page.next_cursor;
          },
          (event) => this.applyToList(event),
        );
      }
      this.listLoaded = true;
      this.listError = null;
    } catch (e) {
      this.listError = message(e);
    }
    this.changed();
  }

  /** Shows a conversation (null: a new one), loading its history unless it is loaded or loading. */
  open(conversation: string | null): void {
    this.current = conversation;
    const status = conversation === null ? undefined : this.threads.get(conversation)?.status;
    if (conversation !== null && status !== 'ready' && status !== 'loading') void this.loadThread(conversation);
    this.changed();
  }

  private async loadThread(conversation: string): Promise<void> {
    this.threads.set(conversation, { status: 'loading' });
    this.changed();
    try {
      // Events keep updating turns while this loads; the merge only ever
      // moves a turn forward, so no event needs replaying (and a delta must
      // not be: it appends).
      this.mergeHistory(conversation, await this.api.messages(conversation));
      this.threads.set(conversation, { status: 'ready' });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        // Deleted meanwhile (or a stale link): start a new conversation instead.
        this.threads.delete(conversation);
        if (this.current === conversation) this.current = null;
      } else {
        this.threads.set(conversation, { status: 'error', error: message(e) });
      }
    }
    this.changed();
  }

  /**
   * The stream opened from the server's present, not resumed: whatever was
   * committed before it opened (while it could not connect, or between the
   * page's first fetch and the stream) is fetched again and merged. Nothing
   * shown is cleared first, so nothing jumps.
   */
  private async catchUp(): Promise<void> {
    const current = this.current;
    // Other loaded conversations load again when opened.
    for (const id of [...this.threads.keys()]) if (id !== current) this.threads.delete(id);
    await this.loadConversations();
    if (current !== null && this.threads.get(current)?.status === 'ready') await this.refresh(current);
  }

  /** Fetches a loaded conversation again and merges it in (turns only move forward). */
  private async refresh(conversation: string): Promise<void> {
    try {
      this.mergeHistory(conversation, await this.api.messages(conversation));
    } catch {
      // Shown as it was; the next event or a reload brings it up to date.
    }
    this.changed();
  }

  /** The event stream is open (again): catch up unless it resumed, then send what could not be sent. */
  async online(resumed: boolean): Promise<void> {
    if (!resumed) await this.catchUp();
    // A message stored before its answer was lost comes back as itself (its key).
    for (const turn of [...this.drafts, ...this.turns.values()]) {
      if (turn.state === 'unsent' && turn.retryWhenOnline) void this.send(turn.text, turn);
    }
  }

  /** After a `resync`: everything again. */
  async reload(): Promise<void> {
    this.threads.clear();
    for (const [id, turn] of this.turns) if (turn.messageId) this.turns.delete(id);
    await this.loadConversations();
    if (this.current) await this.loadThread(this.current);
  }

  private mergeHistory(conversation: string, messages: ChatMessage[]): void {
    for (const m of messages) {
      if (m.role === 'user') {
        const turn = this.adoptDraft(m, false) ?? this.turnFor(m.id, conversation);
        turn.text = m.content;
        turn.seq = m.seq;
        if (m.status === 'completed' || m.status === 'failed') turn.state = m.status;
        else if (turn.state === 'sending' || turn.state === 'queued') {
          turn.state = m.status === 'processing' ? 'processing' : 'queued';
        }
        if (m.error) turn.error = m.error;
      } else if (m.role === 'assistant' && !m.reply_to) {
        this.notice(m);
      } else if (m.reply_to) {
        const turn = this.turnFor(m.reply_to, conversation);
        if (m.role === 'tool') {
          addTool(turn, {
            tool_call_id: m.tool_call_id ?? undefined,
            name: m.tool_name ?? 'tool',
            arguments: null,
            result: parseJson(m.content),
          });
        } else if (m.is_final) {
          turn.answer = m.content;
          if (m.metadata?.failed) turn.state = 'failed';
          else if (turn.state !== 'failed') turn.state = 'completed';
        }
      }
    }
  }

  // ---- live events ----------------------------------------------------------

  apply(event: LiveEvent): void {
    this.listSnapshots.note(event);
    this.applyToList(event);
    this.applyToTurns(event);
    this.changed();
  }

  private applyToList(event: LiveEvent): void {
    switch (event.type) {
      case 'conversation.created': {
        const d = event.data;
        if (!this.conversations.some((c) => c.id === d.id)) this.conversations.unshift(d);
        break;
      }
      case 'conversation.deleted':
        this.forget(event.data.id);
        break;
      case 'message.created':
        this.touch(event.data.conversation_id, event.data.content, event.data.created_at);
        break;
      case 'message.completed':
      case 'message.failed': {
        const d = event.data;
        this.touch(d.conversation_id, d.message.content, d.message.created_at);
        break;
      }
    }
  }

  /** A deleted conversation: gone from the list, its thread and its turns. */
  private forget(id: string): void {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.threads.delete(id);
    for (const [key, turn] of this.turns) if (turn.conversationId === id) this.turns.delete(key);
    if (this.current === id) this.current = null;
  }

  /** Moves a conversation to the top of the list with a new preview. */
  private touch(id: string, preview: string | undefined, at: string | undefined): void {
    const index = this.conversations.findIndex((c) => c.id === id);
    if (index < 0) return;
    const [conversation] = this.conversations.splice(index, 1);
    this.conversations.unshift({
      ...conversation,
      last_message: preview ?? conversation.last_message,
      updated_at: at ?? conversation.updated_at,
    });
  }

  /** A message the assistant wrote on its own (a reminder), shown in its place. */
  private notice(m: ChatMessage): void {
    const turn = this.turnFor(m.id, m.conversation_id);
    turn.seq = m.seq;
    turn.answer = m.content;
    turn.state = 'completed';
    turn.notice = true;
  }

  private applyToTurns(event: LiveEvent): void {
    switch (event.type) {
      case 'reminder.due':
        this.notice(event.data.message);
        return;
      case 'message.created': {
        const m = event.data;
        if (m.role !== 'user') return;
        const turn = this.adoptDraft(m, true) ?? this.turnFor(m.id, m.conversation_id);
        turn.text = m.content;
        turn.seq = m.seq;
        if (turn.state === 'sending') turn.state = 'queued';
        return;
      }
      case 'message.processing': {
        const d = event.data;
        const turn = this.turnFor(d.message_id, d.conversation_id);
        if (finished(turn)) return;
        turn.state = 'processing';
        turn.waitUntil = null;
        // A new attempt starts the answer over: drop what the last one streamed.
        if (d.attempt > 1) turn.streamed = '';
        return;
      }
      case 'message.queued': {
        const d = event.data;
        const turn = this.turnFor(d.message_id, d.conversation_id);
        if (!finished(turn)) turn.waitUntil = Date.now() + d.expected_wait_ms;
        return;
      }
      case 'message.restarted': {
        // The model call is tried again from the start: what it streamed
        // so far would otherwise show twice.
        const d = event.data;
        const turn = this.turnFor(d.message_id, d.conversation_id);
        if (!finished(turn)) turn.streamed = '';
        return;
      }
      case 'message.delta': {
        const d = event.data;
        const turn = this.turnFor(d.message_id, d.conversation_id);
        if (finished(turn)) return;
        turn.state = 'processing';
        turn.waitUntil = null;
        turn.streamed += d.delta;
        return;
      }
      case 'tool.called': {
        const d = event.data;
        const turn = this.turnFor(d.message_id, d.conversation_id);
        addTool(turn, { tool_call_id: d.tool_call_id, name: d.name, arguments: d.arguments, result: d.result });
        // Text streamed before a tool round was the model thinking aloud; the final answer follows.
        turn.streamed = '';
        return;
      }
      case 'message.completed':
      case 'message.failed': {
        const d = event.data;
        const turn = this.turnFor(d.message_id, d.conversation_id);
        turn.state = event.type === 'message.completed' ? 'completed' : 'failed';
        turn.answer = d.message.content;
        turn.error = d.reason ?? null;
        turn.waitUntil = null;
        turn.streamed = '';
        return;
      }
    }
  }

  private turnFor(messageId: string, conversationId: string | null): Turn {
    let turn = this.turns.get(messageId);
    if (!turn) {
      turn = newTurn(messageId, '');
      turn.messageId = messageId;
      turn.state = 'queued';
      this.turns.set(messageId, turn);
    }
    if (conversationId) turn.conversationId = conversationId;
    return turn;
  }

  /**
   * The optimistic turn this server message is, if it is one of ours not yet
   * settled: by its Idempotency-Key (certain, also when the post's own answer
   * was lost and the turn shows "unsent"), or for a new message's event, by
   * its text while the post is in flight.
   */
  private adoptDraft(m: ChatMessage, isNew: boolean): Turn | null {
    if (this.turns.has(m.id)) return null;
    const pool = [...this.drafts, ...this.turns.values()].filter((t) => t.messageId === null);
    const draft = pool.find((t) => !!m.idempotency_key && t.sendKey === m.idempotency_key) ??
      (isNew
        ? pool.find(
            (t) => t.state === 'sending' && t.text === m.content &&
              (t.conversationId === null || t.conversationId === m.conversation_id),
          )
        : undefined);
    if (!draft) return null;
    if (draft.state === 'unsent') {
      draft.state = 'sending';
      draft.error = null;
    }
    this.settle(draft, m.id, m.conversation_id);
    return draft;
  }

  /** Gives an optimistic turn its server ids. */
  private settle(turn: Turn, messageId: string, conversationId: string): void {
    if (turn.messageId) return;
    if (this.drafts.includes(turn)) {
      this.drafts = this.drafts.filter((t) => t !== turn);
      // The first message created the conversation: it is the open one now
      // (its history is this turn; later events fill it in).
      if (this.current === null) {
        this.current = conversationId;
        this.threads.set(conversationId, { status: 'ready' });
      }
    }
    this.turns.delete(turn.key);
    turn.messageId = messageId;
    turn.conversationId = conversationId;
    const existing = this.turns.get(messageId);
    if (existing && existing !== turn) {
      // Events got there first: they hold the truth; keep our text and key.
      existing.text ||= turn.text;
      existing.key = turn.key;
      return;
    }
    this.turns.set(messageId, turn);
  }

  // ---- actions --------------------------------------------------------------

  async send(text: string, retryOf?: Turn): Promise<void> {
    const retry = retryOf?.state === 'unsent' ? retryOf : null;
    // A retry goes where the message was sent, whatever is open now.
    let conversation = retry ? retry.conversationId : this.current;
    let turn: Turn;
    if (retry) {
      turn = retry;
      turn.state = 'sending';
      turn.error = null;
      turn.retryWhenOnline = false;
    } else {
      turn = newTurn(`local-${++localIds}`, text);
      turn.conversationId = conversation;
      if (conversation === null) this.drafts.push(turn);
      else this.turns.set(turn.key, turn);
    }
    this.changed();
    // A new conversation is made by its first message: until that post
    // answers, later messages wait for its id instead of each starting one.
    let creation: Deferred<string | null> | null = null;
    if (conversation === null) {
      if (this.creating) conversation = await this.creating;
      else {
        creation = deferred();
        this.creating = creation.promise;
      }
    }
    try {
      turn.sendKey ??= randomKey();
      const posted = await this.api.send(text, conversation, turn.sendKey);
      this.settle(turn, posted.message_id, posted.conversation_id);
      creation?.resolve(posted.conversation_id);
      // A retry may find its message stored long ago, its events gone by
      // while the page was offline: the conversation says how far it got.
      if (retry) await this.refresh(posted.conversation_id);
    } catch (e) {
      if (turn.messageId !== null) {
        // The answer was lost, but the message's event has already shown it got through.
        creation?.resolve(turn.conversationId);
      } else {
        creation?.resolve(null);
        turn.state = 'unsent';
        // Not refused, just not answered: it may even have been stored.
        // Its key makes sending it again safe, so that happens by itself.
        turn.retryWhenOnline = e instanceof ApiError && (e.offline || e.status >= 500);
        turn.error = e instanceof ApiError && e.code === 'rate_limited'
          ? `You are sending messages quickly. Try again${e.retryAfter ? ` in ${e.retryAfter} s` : ' in a moment'}.`
          : message(e);
      }
    } finally {
      if (creation) this.creating = null;
    }
    this.changed();
  }

  async deleteConversation(id: string): Promise<void> {
    await this.api.deleteConversation(id);
    this.forget(id);
    this.changed();
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function newTurn(key: string, text: string): Turn {
  return {
    key,
    messageId: null,
    conversationId: null,
    seq: Number.MAX_SAFE_INTEGER,
    text,
    state: 'sending',
    waitUntil: null,
    streamed: '',
    tools: [],
    answer: null,
    error: null,
  };
}

/** 128 random bits in hex: crypto.randomUUID needs a secure context, getRandomValues does not. */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function finished(turn: Turn): boolean {
  return turn.state === 'completed' || turn.state === 'failed';
}

function addTool(turn: Turn, call: ToolCall): void {
  const known = turn.tools.find((t) => call.tool_call_id !== undefined && t.tool_call_id === call.tool_call_id);
  if (known) {
    if (known.arguments === null) known.arguments = call.arguments;
    return;
  }
  turn.tools.push(call);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
