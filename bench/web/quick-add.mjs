// Quick add's preview latency: does it keep up with typing? Against a fresh
// stack (todo-api + todo-worker + mock-openai from target/debug, or
// TODO_BIN_DIR), two figures:
//   1. the preview endpoint alone: N requests one after another from Node,
//      over phrases as they grow key by key;
//   2. in Debian's Chromium, a person typing at a fast 80 ms per key: for
//      each preview request the page made, its round trip (resource timing),
//      and from the last key to the answer for the final text.
// Figures go to docs/benchmarks.md.
//
//   node bench/web/quick-add.mjs [--requests N]
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const { Stack } = await import('../../web/tests/support/stack.mjs');

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const requests = arg('--requests', 2000);
const PHRASES = [
  'call mom tomorrow at 5pm p1 #family',
  'pay rent on the 1st of every month, 2 days before',
  'read The 5th Wave',
  'water plants every monday and thursday at 8am #garden',
  'dentist next tuesday 14:30 high priority',
];
// Every prefix of every phrase: what the box holds after each key.
const PREFIXES = PHRASES.flatMap((p) => Array.from({ length: p.length }, (_, i) => p.slice(0, i + 1)));

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const f = (v) => `${v.toFixed(1)} ms`;
  return `n=${s.length} p50 ${f(quantile(s, 0.5))} p90 ${f(quantile(s, 0.9))} p99 ${f(quantile(s, 0.99))} max ${f(s.at(-1))}`;
};

const stack = await Stack.start('bench-quick-add');
try {
  const signup = await stack.call('POST', '/api/auth/signup', null, {
    email: `quick-${Date.now()}@example.com`, password: 'correct horse battery', time_zone: 'Europe/Berlin',
  });
  const { token, user } = signup.body;
  const path = `/api/${user.id}/tasks/quick-add/preview`;

  // 1. The endpoint alone, after a warm-up.
  for (let i = 0; i < 50; i++) await stack.call('POST', path, token, { text: PREFIXES[i % PREFIXES.length] });
  const alone = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const res = await stack.call('POST', path, token, { text: PREFIXES[i % PREFIXES.length] });
    alone.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`preview answered ${res.status}`);
  }
  console.log(`endpoint, one at a time: ${summary(alone)}`);

  // 2. Typing in the web app.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ timezoneId: 'Europe/Berlin' });
  await context.addInitScript((s) => localStorage.setItem('todo-chat.session', s), JSON.stringify(signup.body));
  // When the last key went down, on the page's clock.
  await context.addInitScript(() => document.addEventListener('keydown', () => { window.__lastKey = performance.now(); }, true));
  const page = await context.newPage();
  await page.goto(stack.base);
  const box = page.getByRole('textbox', { name: 'New task' });
  await box.waitFor();
  const settled = [];
  for (const phrase of PHRASES) {
    await box.fill('');
    await page.waitForTimeout(300);
    await box.pressSequentially(phrase, { delay: 80 });
    await page.waitForTimeout(500);
    // The last preview the page asked for: answered this long after the
    // last key (the 60 ms pause after a key included).
    settled.push(await page.evaluate(() => (performance.getEntriesByType('resource')
      .filter((e) => e.name.endsWith('/quick-add/preview')).at(-1)?.responseEnd ?? NaN) - window.__lastKey));
  }
  const trips = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith('/quick-add/preview'))
    .map((e) => e.responseEnd - e.startTime));
  const keys = PHRASES.reduce((n, p) => n + p.length, 0);
  console.log(`browser, ${keys} keys at 80 ms: ${trips.length} preview requests; round trip ${summary(trips)}`);
  console.log(`browser, last key to the final text's preview answered: ${summary(settled)}`);
  await browser.close();
} finally {
  await stack.stop();
}
