import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, login, signup } from '../api';
import type { Session } from '../types';

export function Login({ onSession, notice }: { onSession: (s: Session) => void; notice: string | null }) {
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  useEffect(() => emailRef.current?.focus(), [mode]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSession(mode === 'signup' ? await signup(email.trim(), password, name.trim()) : await login(email.trim(), password));
    } catch (err) {
      setError(err instanceof ApiError ? describe(err) : String(err));
      setBusy(false);
    }
  };

  const signingUp = mode === 'signup';
  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h1 class="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" /> Todo Chat
        </h1>
        <h2 id="login-title">{signingUp ? 'Create your account' : 'Log in'}</h2>
        {notice && <p class="notice" role="status">{notice}</p>}
        <label for="email">Email</label>
        <input id="email" ref={emailRef} type="email" autocomplete="email" required value={email}
          onInput={(e) => setEmail(e.currentTarget.value)} />
        {signingUp && (
          <>
            <label for="name">Name <span class="optional">(optional)</span></label>
            <input id="name" autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </>
        )}
        <label for="password">Password</label>
        <input id="password" type="password" required minLength={8}
          autocomplete={signingUp ? 'new-password' : 'current-password'} value={password}
          aria-describedby={signingUp ? 'password-hint' : undefined}
          onInput={(e) => setPassword(e.currentTarget.value)} />
        {signingUp && <p id="password-hint" class="hint">At least 8 characters.</p>}
        <p class="form-error" role="alert">{error ?? ''}</p>
        <button class="primary" type="submit" disabled={busy}>
          {busy ? 'One moment…' : signingUp ? 'Create account' : 'Log in'}
        </button>
        <p class="switch">
          {signingUp ? 'Already have an account?' : 'New here?'}{' '}
          <button type="button" class="link" onClick={() => { setMode(signingUp ? 'login' : 'signup'); setError(null); }}>
            {signingUp ? 'Log in' : 'Create an account'}
          </button>
        </p>
      </form>
    </main>
  );
}

function describe(e: ApiError): string {
  if (e.code === 'rate_limited') return `Too many attempts. Try again in ${e.retryAfter ?? 60} s.`;
  if (e.code === 'email_taken') return 'An account with this email exists. Log in instead?';
  return e.field ? `${capitalize(e.field)}: ${e.message}` : e.message;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
