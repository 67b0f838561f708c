// The user's live event stream (GET /api/{user}/events), read with fetch
// rather than EventSource: the token travels in the Authorization header
// (never in a URL), and reconnection, Last-Event-ID and the offline state
// are ours to control. Durable events carry gapless ids, so resuming from
// the last id seen replays exactly what was missed.

import type { ServerEvent } from './api-types';

/** One event as the API document describes it (`type`, `data`, `id`); the
 * types are generated from /openapi.json (web/src/api-types.ts). */
export type LiveEvent = ServerEvent;

export type StreamState = 'connecting' | 'online' | 'offline';

export interface StreamHandlers {
  onEvent(event: LiveEvent): void;
  onState(state: StreamState): void;
  /** The stream is open; `resumed` when it continued from an earlier id. */
  onOpen(resumed: boolean): void;
  onUnauthorized(): void;
}

/** Silence longer than this means a dead connection (the server sends a keep-alive every 15 s). */
const SILENCE_MS = 40_000;
/** A drop shorter than this is not worth an "offline" badge. */
const OFFLINE_AFTER_MS = 1_500;
const MAX_BACKOFF_MS = 5_000;

export class EventStream {
  private lastId: number | null = null;
  private controller: AbortController | null = null;
  private stopped = false;
  private failures = 0;
  private offlineTimer: number | undefined;
  private wake: (() => void) | null = null;
  private readonly onOnline = () => this.wake?.();

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    window.addEventListener('online', this.onOnline);
    this.handlers.onState('connecting');
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.clearTimeout(this.offlineTimer);
    this.controller?.abort();
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.connect();
      if (this.stopped) return;
      if (this.offlineTimer === undefined) {
        this.offlineTimer = window.setTimeout(() => this.handlers.onState('offline'), OFFLINE_AFTER_MS);
      }
      this.failures += 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures, 5));
      await new Promise<void>((resolve) => {
        const timer = window.setTimeout(resolve, backoff * (0.5 + Math.random() / 2));
        this.wake = () => {
          window.clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** One connection, until it ends or fails. */
  private async connect(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    let silence = window.setTimeout(() => controller.abort(), SILENCE_MS);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'text/event-stream',
    };
    const resumed = this.lastId !== null;
    if (resumed) headers['last-event-id'] = String(this.lastId);
    try {
      const response = await fetch(this.url, { headers, signal: controller.signal, cache: 'no-store' });
      if (response.status === 401) {
        this.stopped = true;
        this.handlers.onUnauthorized();
        return;
      }
      if (response.status === 400 && resumed) {
        // Our id is one this server never sent (its database was reset):
        // start over from its present, which reloads everything.
        this.lastId = null;
        return;
      }
      if (!response.ok || !response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new Parser((field, value) => this.field(field, value), () => this.dispatch());
      let opened = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        window.clearTimeout(silence);
        silence = window.setTimeout(() => controller.abort(), SILENCE_MS);
        if (!opened) {
          // The first bytes are the server's "connected" frame.
          opened = true;
          this.failures = 0;
          window.clearTimeout(this.offlineTimer);
          this.offlineTimer = undefined;
          this.handlers.onState('online');
          this.handlers.onOpen(resumed);
        }
        parser.push(value);
      }
    } catch {
      // Network error or abort: the loop reconnects.
    } finally {
      window.clearTimeout(silence);
    }
  }

  private event = { type: '', data: [] as string[], id: null as string | null };

  private field(name: string, value: string): void {
    if (name === 'event') this.event.type = value;
    else if (name === 'data') this.event.data.push(value);
    else if (name === 'id' && !value.includes('\0')) this.event.id = value;
  }

  private dispatch(): void {
    const { type, data, id } = this.event;
    this.event = { type: '', data: [], id: null };
    if (id !== null && /^\d+$/.test(id)) this.lastId = Number(id);
    if (type === 'session.expired') {
      // The token expired or was revoked: reconnecting with it is pointless.
      this.stop();
      this.handlers.onUnauthorized();
      return;
    }
    if (!data.length) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    // The server is trusted to send what its document says (a test holds
    // the generated types to /openapi.json).
    this.handlers.onEvent({ id: id === null ? null : Number(id), type, data: parsed } as LiveEvent);
  }
}

/** text/event-stream framing (WHATWG HTML, "Parsing an event stream"). */
class Parser {
  private buffer = '';

  constructor(
    private readonly onField: (name: string, value: string) => void,
    private readonly onBlank: () => void,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === '') this.onBlank();
      else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        if (colon < 0) this.onField(line, '');
        else {
          const value = line.slice(colon + 1);
          this.onField(line.slice(0, colon), value.startsWith(' ') ? value.slice(1) : value);
        }
      }
    }
  }
}
