import { useState } from 'preact/hooks';
import type { ChatStore } from '../chat';
import { useStore } from '../store';

export function Conversations({ chat, onOpened, report }: {
  chat: ChatStore;
  onOpened: () => void;
  report: (message: string) => void;
}) {
  useStore(chat);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const open = (id: string | null) => {
    chat.open(id);
    onOpened();
    if (id === null) document.getElementById('composer')?.focus();
  };

  const remove = async (id: string) => {
    setConfirming(null);
    try {
      await chat.deleteConversation(id);
    } catch (e) {
      report(`Couldn't delete the conversation: ${e instanceof Error ? e.message : e}`);
    }
  };

  return (
    <nav class="conversations" aria-labelledby="conversations-title">
      <div class="panel-head">
        <h2 id="conversations-title">Conversations</h2>
        <button type="button" class="primary small" onClick={() => open(null)}>New chat</button>
      </div>
      {chat.listError && <p class="error-text">{chat.listError}</p>}
      {!chat.listLoaded && !chat.listError && <p class="muted pad">Loading…</p>}
      {chat.listLoaded && chat.conversations.length === 0 && (
        <p class="muted pad">No conversations yet. Say hello to start one.</p>
      )}
      <ul class="conversation-list">
        {chat.conversations.map((c) => (
          <li key={c.id} class={chat.current === c.id ? 'current' : undefined}>
            {confirming === c.id ? (
              <div class="confirm" role="group" aria-label={`Delete “${c.title}”?`}>
                <span class="confirm-text">Delete “{c.title}” and its messages?</span>
                <button type="button" class="danger small" onClick={() => remove(c.id)}>Delete</button>
                <button type="button" class="quiet small" autoFocus onClick={() => setConfirming(null)}>Cancel</button>
              </div>
            ) : (
              <>
                <button type="button" class="open" aria-current={chat.current === c.id ? 'page' : undefined}
                  onClick={() => open(c.id)}>
                  <span class="title">{c.title}</span>
                  <span class="preview">{c.last_message ?? ''}</span>
                </button>
                <button type="button" class="icon" aria-label={`Delete conversation “${c.title}”`}
                  title="Delete conversation" onClick={() => setConfirming(c.id)}>
                  <TrashIcon />
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {chat.nextCursor && (
        <button type="button" class="quiet more" disabled={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            await chat.loadConversations(true);
            setLoadingMore(false);
          }}>
          {loadingMore ? 'Loading…' : 'Show older conversations'}
        </button>
      )}
    </nav>
  );
}

export function TrashIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path d="M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3"
        fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
