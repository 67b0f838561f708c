import { useEffect, useState } from 'preact/hooks';
import { type Api, browserZone } from '../api';

const KEPT = 'todo-chat.zone-kept';

/**
 * Offers to move the account to the browser's time zone when the two differ
 * (the assistant's "today" and "tomorrow" are the account's). Laid over the
 * panels, so nothing under it moves; "Keep" is remembered for that pair.
 */
export function ZoneOffer({ api, report }: { api: Api; report: (message: string) => void }) {
  const [account, setAccount] = useState<string | null>(null);
  const [kept, setKept] = useState(() => localStorage.getItem(KEPT));
  const [busy, setBusy] = useState(false);
  const browser = browserZone();

  useEffect(() => {
    let live = true;
    api.me().then(
      (me) => live && setAccount(me.user.time_zone ?? 'UTC'),
      () => undefined,
    );
    return () => void (live = false);
  }, [api]);

  const pair = `${account}|${browser}`;
  if (!account || !browser || account === browser || kept === pair) return null;

  const use = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const me = await api.setTimeZone(browser);
      setAccount(me.user.time_zone ?? browser);
      report(`Time zone set to ${browser}.`);
    } catch {
      report('Could not change the time zone. Please try again.');
    } finally {
      setBusy(false);
    }
  };
  const keep = () => {
    localStorage.setItem(KEPT, pair);
    setKept(pair);
  };

  return (
    <section class="zone-offer" aria-label="Time zone">
      <span>
        Your account uses <strong>{account}</strong> for dates; this browser is in <strong>{browser}</strong>.
      </span>
      <button type="button" onClick={use} aria-disabled={busy}>
        Use {browser}
      </button>
      <button type="button" class="quiet" onClick={keep}>
        Keep {account}
      </button>
    </section>
  );
}
