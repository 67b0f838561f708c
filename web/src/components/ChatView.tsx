import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore, Turn } from '../chat';
import { chipText } from '../format';
import { memo } from '../memo';
import { useStore } from '../store';

const EXAMPLES = ['add call mom tomorrow, high priority', "what's still open?", 'done with 1'];

export function ChatView({ chat, zone }: { chat: ChatStore; zone: string }) {
  useStore(chat);
  const thread = chat.thread(chat.current);
  const title = chat.current ? chat.conversations.find((c) => c.id === chat.current)?.title ?? 'Conversation' : 'New conversation';
  const log = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const [draft, setDraft] = useState('');
  const [announcement, setAnnouncement] = useState('');
  const composer = useRef<HTMLTextAreaElement>(null);
  const retry = useCallback((turn: Turn) => void chat.send(turn.text, turn), [chat]);

  // Stay at the bottom while answers grow, unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = log.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => {
    pinned.current = true;
  }, [chat.current]);

  // Screen readers hear each finished answer once (the log itself is not live: deltas would chatter).
  const lastDone = thread.turns.filter((t) => t.state === 'completed' || t.state === 'failed').at(-1);
  const announced = useRef<string | null>(null);
  useEffect(() => {
    if (!lastDone || announced.current === lastDone.key) return;
    const first = announced.current === null;
    announced.current = lastDone.key;
    if (!first && lastDone.answer) setAnnouncement(`Assistant: ${lastDone.answer}`);
  }, [lastDone?.key, lastDone?.state]);

  const send = (text: string) => {
    const message = text.trim();
    if (!message) return;
    pinned.current = true;
    void chat.send(message);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send(draft);
      setDraft('');
    }
  };

  return (
    <main class="chat" aria-labelledby="chat-title">
      <div class="panel-head">
        <h2 id="chat-title">{title}</h2>
      </div>
      <div class="log" ref={log} role="log" aria-live="off" aria-labelledby="chat-title" tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}>
        {thread.status === 'loading' && <p class="muted pad">Loading the conversation…</p>}
        {thread.status === 'error' && (
          <p class="error-text pad">
            Couldn't load this conversation: {thread.error}{' '}
            <button type="button" class="link" onClick={() => chat.open(chat.current)}>Try again</button>
          </p>
        )}
        {thread.status === 'new' && thread.turns.length === 0 && (
          <div class="empty">
            <p>Tell the assistant what to do with your list. For example:</p>
            <ul>
              {EXAMPLES.map((example) => (
                <li key={example}>
                  <button type="button" class="example" onClick={() => { setDraft(example); composer.current?.focus(); }}>
                    {example}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        {thread.turns.map((turn) => (
          <TurnView key={turn.key} turn={turn} text={turn.text} state={turn.state} streamed={turn.streamed}
            tools={turn.tools.length} answer={turn.answer} waitUntil={turn.waitUntil} zone={zone} onRetry={retry} />
        ))}
      </div>
      <p class="visually-hidden" aria-live="polite">{announcement}</p>
      <form class="composer" onSubmit={(e) => { e.preventDefault(); send(draft); setDraft(''); }}>
        <label for="composer" class="visually-hidden">Message the assistant</label>
        <textarea id="composer" ref={composer} rows={2} maxLength={4000} value={draft}
          placeholder="Message the assistant — Enter to send, Shift+Enter for a new line"
          onInput={(e) => setDraft(e.currentTarget.value)} onKeyDown={onKeyDown} />
        <button type="submit" class="primary" disabled={!draft.trim()}>Send</button>
      </form>
    </main>
  );
}

interface TurnProps {
  turn: Turn;
  text: string;
  // The fields that change, so memo notices a turn that was mutated in place.
  state: Turn['state'];
  streamed: string;
  tools: number;
  answer: string | null;
  waitUntil: number | null;
  /** The user's time zone, for due dates in chips. */
  zone: string;
  onRetry: (turn: Turn) => void;
}

const TurnView = memo(function TurnView({ turn, zone, onRetry }: TurnProps) {
  if (turn.notice) {
    return (
      <article class="turn notice" aria-label="From the assistant">
        <div class="bubble assistant"><p class="text">{turn.answer}</p></div>
      </article>
    );
  }
  const failed = turn.state === 'failed';
  const unsent = turn.state === 'unsent';
  return (
    <article class="turn" data-state={turn.state} aria-label={`You: ${turn.text}`}>
      <div class="bubble user">
        <p class="text">{turn.text}</p>
        {unsent && (
          <p class="turn-error">
            Not sent: {turn.error}{' '}
            <button type="button" class="link" onClick={() => onRetry(turn)}>Retry</button>
          </p>
        )}
      </div>
      {turn.tools.length > 0 && (
        <ul class="chips" aria-label="What the assistant did">
          {turn.tools.map((call, i) => {
            const chip = chipText(call, zone);
            return <li key={call.tool_call_id ?? i} class={chip.failed ? 'chip failed' : 'chip'}>{chip.text}</li>;
          })}
        </ul>
      )}
      {!unsent && (
        <div class={failed ? 'bubble assistant failed' : 'bubble assistant'} aria-busy={!turn.answer && !failed}>
          {turn.answer ? (
            <p class="text">{turn.answer}</p>
          ) : turn.streamed ? (
            <p class="text streaming">{turn.streamed}</p>
          ) : (
            <Status turn={turn} />
          )}
          {failed && (
            <p class="turn-error">
              {turn.error ? `Reason: ${turn.error}. ` : ''}
              <button type="button" class="link" onClick={() => onRetry(turn)}>Try again</button>
            </p>
          )}
        </div>
      )}
    </article>
  );
});

/** What a turn waits for, in words; counts down while the model's rate limit holds it. */
function Status({ turn }: { turn: Turn }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (turn.waitUntil === null) return;
    const timer = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => window.clearInterval(timer);
  }, [turn.waitUntil]);
  let text: string;
  if (turn.waitUntil !== null && turn.waitUntil > Date.now()) {
    text = `Waiting for the model, about ${Math.max(1, Math.ceil((turn.waitUntil - Date.now()) / 1000))} s`;
  } else if (turn.state === 'sending') text = 'Sending…';
  else if (turn.state === 'processing') text = 'Thinking…';
  else text = 'Waiting for the assistant…';
  return <p class="status">{text}</p>;
}
