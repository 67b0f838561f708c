import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError } from '../api';
import { ChatStore } from '../chat';
import { EventStream, type StreamState } from '../events';
import { TaskStore } from '../tasks';
import { BROWSER_ZONE } from '../format';
import { notify } from '../reminders';
import { keepForRevocation } from '../session';
import type { ReminderDue } from '../api-types';
import type { Session } from '../types';
import { ChatView } from './ChatView';
import { Conversations } from './Conversations';
import { TaskPanel } from './TaskPanel';
import { ReminderBanner, ReminderSwitch } from './Reminders';
import { ZoneOffer } from './ZoneOffer';
import { ZoneSettings } from './ZoneSettings';

type Panel = 'conversations' | 'chat' | 'tasks';

const HASH = /^#\/c\/([0-9a-f-]{36})$/i;

/** The signed-in app: conversations, the chat and the tasks, live from one event stream. */
export function Workspace({ session, onSignedOut }: { session: Session; onSignedOut: (why: string | null) => void }) {
  const expired = useCallback(() => onSignedOut('Your session has ended. Please log in again.'), [onSignedOut]);
  const api = useMemo(() => new Api(session, expired), [session, expired]);
  const tasks = useMemo(() => new TaskStore(api), [api]);
  const chat = useMemo(() => new ChatStore(api), [api]);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [panel, setPanel] = useState<Panel>('chat');
  const [notice, setNotice] = useState<string | null>(null);
  // Reminders that came due while the page was open (the last three).
  const [due, setDue] = useState<ReminderDue[]>([]);
  // Logging out: 'ending' while the server is asked to revoke the token,
  // 'unreachable' once it could not be (the page keeps asking).
  const [leaving, setLeaving] = useState<null | 'ending' | 'unreachable'>(null);
  const gone = useRef(false);
  useEffect(() => () => void (gone.current = true), []);
  // The account's time zone, as the server has it (another tab may have changed it).
  const [zone, setZone] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.me().then(
      (me) => live && setZone(me.user.time_zone ?? 'UTC'),
      () => undefined,
    );
    return () => void (live = false);
  }, [api]);
  const changeZone = useCallback(
    async (next: string) => {
      try {
        const me = await api.setTimeZone(next);
        setZone(me.user.time_zone ?? next);
        setNotice(`Time zone set to ${next}.`);
      } catch {
        setNotice('Could not change the time zone. Please try again.');
      }
    },
    [api],
  );

  useEffect(() => {
    // Reopen the conversation of the URL (a reload keeps its place).
    const match = HASH.exec(location.hash);
    chat.open(match ? match[1] : null);
    const events = new EventStream(`/api/${encodeURIComponent(session.user.id)}/events`, session.token, {
      onEvent(event) {
        if (event.type.startsWith('task.')) tasks.apply(event);
        else if (event.type === 'reminder.due') {
          const reminder = event.data;
          setDue((shown) => [...shown, reminder].slice(-3));
          notify(reminder);
          tasks.reminderFired(reminder.task_id, reminder.at, reminder.fired_at);
          chat.apply(event);
        } else if (event.type === 'resync') {
          void tasks.load();
          void chat.reload();
        } else chat.apply(event);
      },
      onState: setStream,
      onOpen(resumed) {
        // Subscribed first, loaded second: nothing committed in between is missed.
        // A resumed stream replays what was missed, so nothing is fetched again.
        if (!resumed) void tasks.load();
        void chat.online(resumed);
      },
      onUnauthorized: expired,
    });
    events.start();
    return () => events.stop();
  }, [session, tasks, chat, expired]);

  // The open conversation is in the URL, so a reload or a bookmark comes back to it.
  useEffect(
    () =>
      chat.subscribe(() => {
        const hash = chat.current ? `#/c/${chat.current}` : '';
        if (location.hash !== hash) history.replaceState(null, '', hash || location.pathname);
      }),
    [chat],
  );

  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => setNotice(null), 6000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  // Revoke first, so the token stops working on the server too. A logout
  // that cannot reach the server must not look done while the token stays
  // valid for hours (issue 19): the page stays signed in, says so, and keeps
  // asking until the server answers; 401 means the token had ended already.
  const logout = async () => {
    if (leaving) return;
    setLeaving('ending');
    for (let attempt = 0; !gone.current; attempt++) {
      try {
        await api.logout();
        break;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) break;
        setLeaving('unreachable');
        await new Promise((r) => window.setTimeout(r, Math.min(1000 * 2 ** attempt, 10_000)));
      }
    }
    if (!gone.current) onSignedOut(null);
  };
  // The user's choice when the server stays out of reach: forget the session
  // here, and say plainly that it is still valid on the server.
  const leaveHereOnly = () => {
    gone.current = true;
    keepForRevocation(session);
    const until = new Date(session.expires_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
    onSignedOut(
      'Signed out on this device. The server could not be reached, so your session is still valid there: ' +
        `this page ends it the next time it opens with a connection, and it expires by itself at ${until}.`,
    );
  };

  return (
    <div class="workspace" data-panel={panel}>
      <a class="skip" href="#composer">Skip to message box</a>
      <header class="topbar">
        <span class="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" /> Todo Chat
        </span>
        <span class={`net ${stream}`} role="status">
          {stream === 'offline' ? 'Offline — reconnecting…' : ''}
        </span>
        <span class="who" title={session.user.email ?? undefined}>{session.user.name || session.user.email}</span>
        <ReminderSwitch report={setNotice} />
        <ZoneSettings zone={zone} change={changeZone} />
        <button type="button" class="quiet" onClick={logout} aria-disabled={leaving !== null}>
          {leaving ? 'Logging out…' : 'Log out'}
        </button>
      </header>
      {leaving === 'unreachable' && (
        <div class="leaving" role="alert">
          <span>Could not end your session on the server: it cannot be reached. Still trying…</span>
          <button type="button" class="quiet" onClick={leaveHereOnly}>Sign out on this device only</button>
        </div>
      )}
      {leaving === null && <ZoneOffer account={zone} change={changeZone} />}
      <ReminderBanner due={due} dismiss={(r) => setDue((shown) => shown.filter((s) => s !== r))} />
      <nav class="panels" aria-label="Show">
        {(['conversations', 'chat', 'tasks'] as Panel[]).map((p) => (
          <button type="button" key={p} aria-pressed={panel === p} onClick={() => setPanel(p)}>
            {p === 'conversations' ? 'History' : p === 'chat' ? 'Chat' : 'Tasks'}
          </button>
        ))}
      </nav>
      <Conversations chat={chat} onOpened={() => setPanel('chat')} report={setNotice} />
      <ChatView chat={chat} zone={zone ?? BROWSER_ZONE} />
      <TaskPanel store={tasks} api={api} zone={zone ?? BROWSER_ZONE} report={setNotice} />
      <div class="toast" role="status" aria-live="polite">{notice ?? ''}</div>
    </div>
  );
}
