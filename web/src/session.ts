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

// Tokens signed out on this device while the server could not be reached:
// still valid there, so the page revokes them as soon as it can (each time
// it opens, and when the browser comes back online), until they expire.
const UNREVOKED = 'todo-chat.unrevoked';

type Unrevoked = { token: string; expires_at: string };

function unrevoked(): Unrevoked[] {
  try {
    const list = JSON.parse(localStorage.getItem(UNREVOKED) ?? '[]') as Unrevoked[];
    return list.filter((u) => u.token && Date.parse(u.expires_at) > Date.now());
  } catch {
    return [];
  }
}

export function keepForRevocation(session: Session): void {
  const list = unrevoked().filter((u) => u.token !== session.token);
  list.push({ token: session.token, expires_at: session.expires_at });
  localStorage.setItem(UNREVOKED, JSON.stringify(list));
}

/** Revokes what `keepForRevocation` kept; keeps what the server did not answer for. */
export async function revokeKept(): Promise<void> {
  const ended = new Set<string>();
  for (const u of unrevoked()) {
    try {
      const res = await fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${u.token}` } });
      // 401: the token had ended already. Anything else: try again later.
      if (res.ok || res.status === 401) ended.add(u.token);
    } catch {
      // Still unreachable: kept for the next try.
    }
  }
  // Read again: another tab may have added one meanwhile.
  const rest = unrevoked().filter((u) => !ended.has(u.token));
  if (rest.length) localStorage.setItem(UNREVOKED, JSON.stringify(rest));
  else localStorage.removeItem(UNREVOKED);
}
