import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { Chip, QuickAddPreview, Task, TextRange } from '../types';

/** A chip the user dismissed: its words stay in the title while they stand where they stood. */
interface Kept extends TextRange {
  text: string;
}

const KIND: Record<Chip['kind'], string> = {
  date: 'Date',
  time: 'Time',
  date_time: 'Date and time',
  recurrence: 'Repeat',
  priority: 'Priority',
  tag: 'Tag',
  reminder: 'Reminder',
};

/** Code points of `text` (what the API's offsets count). */
const points = (text: string) => Array.from(text);

/** The UTF-16 index (what the input's caret counts) of code point `n`. */
const utf16At = (text: string, n: number) => points(text).slice(0, n).join('').length;

/**
 * The task panel's add box: types a whole task ("call mom tomorrow 5pm p1
 * #family"), shows what the server's grammar recognised as chips, and adds
 * exactly that on Enter. A chip dismissed (click, or Backspace right after
 * its words) leaves its words in the title.
 */
export function QuickAdd({ api, added, report, input }: {
  api: Api; added: (task: Task) => void; report: (message: string) => void; input: { current: HTMLInputElement | null };
}) {
  const [text, setText] = useState('');
  const [kept, setKept] = useState<Kept[]>([]);
  const [preview, setPreview] = useState<QuickAddPreview | null>(null);
  const [busy, setBusy] = useState(false);
  // Answers may come back out of order: only the newest request's is shown.
  const asked = useRef(0);

  const keep = kept.map(({ start, end }) => ({ start, end }));

  useEffect(() => {
    if (!text.trim()) {
      setPreview(null);
      return;
    }
    const n = ++asked.current;
    // A short pause while typing fast; each answer takes a few milliseconds.
    const timer = setTimeout(() => {
      api.previewQuickAdd(text, keep).then(
        (p) => { if (asked.current === n) setPreview(p); },
        () => { if (asked.current === n) setPreview(null); },
      );
    }, 60);
    return () => clearTimeout(timer);
  }, [api, text, JSON.stringify(keep)]);

  // Chips of an older text are not shown against the new one.
  const chips = preview ? preview.chips.filter((c) => points(text).slice(c.start, c.end).join('') === c.text) : [];
  const title = preview?.title ?? text.trim();

  const change = (next: string) => {
    setText(next);
    // A dismissed chip stays dismissed while its words stay where they were.
    setKept((k) => k.filter((r) => points(next).slice(r.start, r.end).join('') === r.text));
  };

  const dismiss = (chip: Chip) => {
    setKept((k) => [...k, { start: chip.start, end: chip.end, text: chip.text }]);
    // Shown at once; the server's next answer confirms it.
    setPreview((p) => p && { ...p, chips: p.chips.filter((c) => c !== chip) });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim() || busy) return;
    setBusy(true);
    try {
      added(await api.quickAdd(text, keep));
      asked.current++;
      setText('');
      setKept([]);
      setPreview(null);
    } catch (err) {
      report(`Couldn't add the task: ${err instanceof Error ? err.message : err}`);
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Backspace') return;
    const box = e.currentTarget as HTMLInputElement;
    if (box.selectionStart === null || box.selectionStart !== box.selectionEnd) return;
    // Right after a chip's words, the first Backspace dismisses the chip, as in Todoist.
    const chip = chips.find((c) => utf16At(text, c.end) === box.selectionStart);
    if (chip) {
      e.preventDefault();
      dismiss(chip);
    }
  };

  const labels = chips.map((c) => c.label).join(', ');
  const problem = preview?.problem
    ? preview.problem.field === 'title' && !preview.title
      ? 'Type a title too: the rest is read as its date, tags and so on.'
      : preview.problem.message
    : null;

  return (
    <form class="quick-add" onSubmit={submit}>
      <div class="quick-add-row">
        <label for="new-task" class="visually-hidden">New task</label>
        <input id="new-task" ref={input} placeholder="Add a task: call mom tomorrow 5pm p1 #family" maxLength={1000}
          value={text} autoComplete="off" aria-describedby="quick-add-summary"
          onInput={(e) => change(e.currentTarget.value)} onKeyDown={onKeyDown} />
        <button type="submit" class="small" disabled={!text.trim() || busy}>Add</button>
      </div>
      {/* Always there, so the list below never jumps as chips come and go. */}
      <div class="quick-add-chips">
        {problem ? <span class="error-text">{problem}</span>
          : chips.length > 0 && <span class="qa-title">“{title}”</span>}
        {chips.length > 0 && (
          <ul aria-label="Recognised in the new task">
            {chips.map((chip) => (
              <li key={`${chip.start}-${chip.end}`}>
                <button type="button" class={`qa-chip qa-${chip.kind}`} title={`From “${chip.text}”: click to keep it in the title`}
                  aria-label={`${KIND[chip.kind]}: ${chip.label}, from “${chip.text}”. Remove, keeping the words in the title`}
                  onClick={() => dismiss(chip)}
                  onKeyDown={(e) => {
                    if (e.key === 'Backspace' || e.key === 'Delete') {
                      e.preventDefault();
                      dismiss(chip);
                      input.current?.focus();
                    }
                  }}>
                  {chip.label} <span aria-hidden="true">×</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <p id="quick-add-summary" class="visually-hidden">{chips.length ? `Adds “${title}”: ${labels}.` : ''}</p>
      {/* Announced when what is recognised changes, not at every key. */}
      <p class="visually-hidden" aria-live="polite">{labels && `Recognised: ${labels}.`}</p>
    </form>
  );
}
