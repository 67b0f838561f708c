import { useState } from 'preact/hooks';
import { browserZone } from '../api';

const KEPT = 'todo-chat.zone-kept';

/**
 * Offers to move the account to the browser's time zone when the two differ
 * (the assistant's "today" and "tomorrow" are the account's). Laid over the
 * panels, so nothing under it moves; "Keep" is remembered for that pair.
 */
export function ZoneOffer({ account, change }: { account: string | null; change: (zone: string) => Promise<void> }) {
  const [kept, setKept] = useState(() => localStorage.getItem(KEPT));
  const [busy, setBusy] = useState(false);
  const browser = browserZone();
  const pair = `${account}|${browser}`;
  if (!account || !browser || account === browser || kept === pair) return null;

  const use = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await change(browser);
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
