// First load of the web app in Debian's Chromium, against a fresh stack
// (todo-api + todo-worker + mock-openai from target/debug, or TODO_BIN_DIR):
// bytes over the wire (compressed, as sent) and time to interactive, for a
// cold cache, on the log-in screen and on the main screen of a signed-in
// user with 1,000 tasks. Figures go to docs/benchmarks.md.
//
//   node bench/web/first-load.mjs [--runs N]
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const { Stack } = await import('../../web/tests/support/stack.mjs');

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const stack = await Stack.start('bench-first-load');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function measure(session, ready) {
  const context = await browser.newContext();
  if (session) {
    await context.addInitScript((s) => localStorage.setItem('todo-chat.session', s), JSON.stringify(session));
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const sizes = new Map();
  cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
  const urls = new Map();
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, new URL(e.response.url).pathname));
  await page.goto(stack.base);
  await page.waitForSelector(ready);
  // Interactive: the ready element is in the page and the main thread answers.
  const interactive = await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0))));
  await page.waitForTimeout(300);
  let assets = 0;
  let api = 0;
  for (const [id, bytes] of sizes) {
    const path = urls.get(id) ?? '';
    if (path.startsWith('/api/')) api += bytes;
    else assets += bytes;
  }
  await context.close();
  return { assets, api, interactive };
}

/**
 * With 1,000 tasks in the page: how long filtering, searching and a live
 * change take to show. Timed inside the page (from the input event to the
 * next painted frame), so the driver's own overhead is not counted.
 */
async function smoothness(session) {
  const context = await browser.newContext();
  await context.addInitScript((s) => localStorage.setItem('todo-chat.session', s), JSON.stringify(session));
  const page = await context.newPage();
  await page.goto(stack.base);
  const rows = () => page.evaluate(() => document.querySelectorAll('aside.tasks li.task').length);
  await page.waitForFunction(() => document.querySelectorAll('aside.tasks li.task').length === 1000);
  const report = (label, times) => {
    times.sort((a, b) => a - b);
    console.log(`${label}: median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms over ${times.length}`);
  };
  // Runs `act` in the page, then waits for `rows` rows and the next frame.
  const inPage = (act, want) => page.evaluate(async ({ act, want }) => {
    const start = performance.now();
    if (act.button) [...document.querySelectorAll('.segmented button')].find((b) => b.textContent === act.button).click();
    if (act.search !== undefined) {
      const input = document.querySelector('input[type=search]');
      input.value = act.search;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    while (document.querySelectorAll('aside.tasks li.task').length !== want) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - start;
  }, { act, want });

  const filter = [];
  for (let i = 0; i < runs; i++) {
    filter.push(await inPage({ button: 'Completed' }, 0));
    filter.push(await inPage({ button: 'All' }, 1000));
  }
  report('switch filter All <-> Completed (1,000 rows <-> 0)', filter);
  const search = [];
  for (let i = 0; i < runs; i++) {
    search.push(await inPage({ search: `task number ${500 + i}` }, 1));
    search.push(await inPage({ search: '' }, 1000));
  }
  report('search keystroke (1,000 rows <-> 1)', search);

  if ((await rows()) !== 1000) throw new Error('expected the whole list');
  const ids = await page.$$eval('aside.tasks li.task', (list) => list.map((r) => Number(r.dataset.taskId)));
  const live = [];
  for (let i = 0; i < runs * 2; i++) {
    const title = `renamed ${i}`;
    // The page notes the wall-clock time at which the new title enters the DOM.
    const seen = page.evaluate((title) => new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        if ([...document.querySelectorAll('aside.tasks li.task .title')].some((b) => b.textContent === title)) {
          observer.disconnect();
          requestAnimationFrame(() => resolve(Date.now()));
        }
      });
      observer.observe(document.querySelector('aside.tasks'), { subtree: true, childList: true, characterData: true });
    }), title);
    const sent = Date.now();
    await stack.call('PUT', `/api/${session.user.id}/tasks/${ids[i]}`, session.token, { title });
    live.push((await seen) - sent);
  }
  report('a REST rename painted in the 1,000-row list (request -> commit -> SSE -> render)', live);
  await context.close();
}

function summary(label, results) {
  const tti = results.map((r) => r.interactive).sort((a, b) => a - b);
  const median = tti[Math.floor(tti.length / 2)];
  console.log(
    `${label}: app ${(results[0].assets / 1024).toFixed(1)} KiB transferred` +
      (results[0].api ? `, API ${(results[0].api / 1024).toFixed(1)} KiB` : '') +
      `; interactive median ${median.toFixed(0)} ms (min ${tti[0].toFixed(0)}, max ${tti.at(-1).toFixed(0)}) over ${results.length} cold loads`,
  );
}

try {
  const login = [];
  for (let i = 0; i < runs; i++) login.push(await measure(null, '#email'));
  summary('log-in screen', login);

  const session = await stack.signup(`bench-${Date.now()}@example.com`);
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) =>
      stack.call('POST', `/api/${session.user.id}/tasks`, session.token, { title: `task number ${i + j}`, tags: ['bench'] })));
  }
  const main = [];
  for (let i = 0; i < runs; i++) main.push(await measure(session, 'aside.tasks li.task'));
  summary('main screen, 1,000 tasks', main);
  await smoothness(session);
} finally {
  await browser.close();
  await stack.stop();
}
