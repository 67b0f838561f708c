// Where the session token lives: localStorage, so a reload or a new tab
// stays signed in (README "Web app" says why that is acceptable). Expired
// sessions are dropped on read; logout in one tab signs out every tab
// through the `storage` event.
import type { Session } from './types';

const KEY = 'todo-chat.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    if (!session.token || !session.user?.id || Date.parse(session.expires_at) <= Date.now()) {
      localStorage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

/** Calls `onChange` when another tab signs in or out. */
export function watchSession(onChange: (session: Session | null) => void): () => void {
  const listener = (e: StorageEvent) => {
    if (e.key === KEY || e.key === null) onChange(loadSession());
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}
