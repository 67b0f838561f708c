import { useCallback, useEffect, useState } from 'preact/hooks';
import { clearSession, loadSession, revokeKept, saveSession, watchSession } from '../session';
import type { Session } from '../types';
import { Login } from './Login';
import { Workspace } from './Workspace';

/** Signed in or not; the session lives in localStorage (see session.ts). */
export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => watchSession(setSession), []);
  // Sessions signed out here while the server was out of reach end as soon
  // as it can be reached: now, and whenever the browser is back online.
  useEffect(() => {
    void revokeKept();
    const online = () => void revokeKept();
    window.addEventListener('online', online);
    return () => window.removeEventListener('online', online);
  }, []);
  // Stable, so the workspace (its stores and event stream) lives as long as the session.
  const signedOut = useCallback((why: string | null) => {
    clearSession();
    setNotice(why);
    setSession(null);
  }, []);

  if (!session) {
    return (
      <Login
        notice={notice}
        onSession={(s) => {
          saveSession(s);
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }
  return (
    <Workspace
      key={session.token}
      session={session}
      onSignedOut={signedOut}
    />
  );
}
