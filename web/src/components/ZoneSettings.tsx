import { useRef, useState } from 'preact/hooks';
import { browserZone } from '../api';

/** Every zone the browser knows, UTC first. */
function zones(): string[] {
  let known: string[] = [];
  try {
    known = (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    // An older browser: the current and the browser's zone are offered below.
  }
  return ['UTC', ...known.filter((z) => z !== 'UTC')];
}

/**
 * The account's time zone in the top bar; a click opens a small dialog to
 * pick another (a native modal dialog: focus stays in it, Escape closes it).
 */
export function ZoneSettings({ zone, change }: { zone: string | null; change: (zone: string) => Promise<void> }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [choice, setChoice] = useState(zone ?? 'UTC');
  const [busy, setBusy] = useState(false);
  if (!zone) return null;
  const options = [...new Set([zone, browserZone() ?? 'UTC', ...zones()])];

  const open = () => {
    setChoice(zone);
    dialog.current?.showModal();
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      await change(choice);
      dialog.current?.close();
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" class="quiet zone" onClick={open} aria-label={`Time zone: ${zone}. Change`}>
        {zone}
      </button>
      <dialog ref={dialog} class="zone-settings" aria-labelledby="zone-title">
        <form onSubmit={save}>
          <h2 id="zone-title">Time zone</h2>
          <p class="muted">The assistant reads "today", "tomorrow" and "at 5pm" in this zone.</p>
          <label>
            <span>Zone</span>
            <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
              {options.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          </label>
          <div class="actions">
            <button type="submit" aria-disabled={busy}>
              Save
            </button>
            <button type="button" class="quiet" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
