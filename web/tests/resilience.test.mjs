// The page through a server restart, a failed turn and the model's rate
// limit: what a person sees when things go wrong.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await Stack.start('resilience');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function sessionOf(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
}

test('todo-api restarts: the page shows offline, reconnects by itself and shows everything sent meanwhile exactly once', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `restart-${Date.now()}@example.com`);
  const composer = page.getByLabel('Message the assistant');
  await composer.fill('add first thing');
  await composer.press('Enter');
  await page.locator('.chip', { hasText: 'added: first thing' }).waitFor();
  const { token, user } = await sessionOf(page);
  const conversation = /#\/c\/(.+)$/.exec(page.url())[1];

  const peer = await stack.startPeer();
  await stack.stopApi();
  await page.locator('.net.offline', { hasText: 'Offline' }).waitFor();

  // Meanwhile, through another instance of the API: two turns in this
  // conversation (answered by the worker) and a task made over REST.
  for (const message of ['add pay rent', 'add water plants']) {
    const turn = await stack.call('POST', `/api/${user.id}/chat`, token, { message, conversation_id: conversation }, peer.base, { prefer: 'wait=30' });
    assert.equal(turn.body.status, 'completed', JSON.stringify(turn.body));
  }
  assert.equal((await peer.call('POST', `/api/${user.id}/tasks`, token, { title: 'call the plumber' })).status, 201);
  assert.ok(await page.locator('.net.offline').isVisible(), 'still offline: nothing reached the page yet');

  await stack.startApi();
  await page.locator('.net.online').waitFor({ timeout: 20_000 });
  for (const text of ['add pay rent', 'add water plants']) {
    await page.locator('.bubble.user', { hasText: text }).waitFor();
  }
  await page.locator('.chip', { hasText: 'added: water plants' }).waitFor();
  await page.locator('aside.tasks li.task', { hasText: 'call the plumber' }).waitFor();
  const count = (selector, text) => page.locator(selector, { hasText: text }).count();
  for (const text of ['add first thing', 'add pay rent', 'add water plants']) {
    assert.equal(await count('.bubble.user', text), 1, `${text} shown once`);
  }
  for (const text of ['added: first thing', 'added: pay rent', 'added: water plants']) {
    assert.equal(await count('.chip', text), 1, `${text} shown once`);
  }
  for (const title of ['first thing', 'pay rent', 'water plants', 'call the plumber']) {
    assert.equal(await page.locator('aside.tasks li.task .title').filter({ hasText: new RegExp(`^${title}$`) }).count(), 1, `task ${title} once`);
  }
  assert.equal(await page.locator('.bubble.assistant.failed').count(), 0);
  await context.close();
});

test('a failed turn says why in plain words, and retrying it works', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `failed-${Date.now()}@example.com`);
  // The model refuses the next request outright (not worth retrying).
  const fail = await fetch(`${stack.mockUrl}/_mock/fail`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 400, count: 1 }),
  });
  assert.ok(fail.ok);
  const composer = page.getByLabel('Message the assistant');
  await composer.fill('add renew passport');
  await composer.press('Enter');
  const failed = page.locator('.bubble.assistant.failed');
  await failed.waitFor();
  assert.match(await failed.textContent(), /Sorry|couldn't|could not/i);
  await failed.getByRole('button', { name: 'Try again' }).click();
  await page.locator('.chip', { hasText: 'added: renew passport' }).waitFor();
  assert.equal(await page.locator('.bubble.user', { hasText: 'add renew passport' }).count(), 2, 'the retry is a new message');
  await context.close();
});

test('reloading while an answer streams: the answer ends up whole, shown once', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `reload-${Date.now()}@example.com`);
  await stack.mockConfig({ chunk_delay_ms: 120 });
  try {
    const composer = page.getByLabel('Message the assistant');
    await composer.fill('add one two three four five six seven eight nine ten');
    await composer.press('Enter');
    await page.locator('.text.streaming').waitFor();
    await page.reload();
    const answer = page.locator('.bubble.assistant .text:not(.streaming)');
    await answer.waitFor();
    assert.match(await answer.textContent(), /^Added "one two three four five six seven eight nine ten" \(task \d+\)\.$/);
    // What streamed after the reload is a piece of the answer: nothing doubled or out of place.
    const text = await answer.textContent();
    for (const piece of await page.evaluate(() => window.__streamed)) {
      assert.ok(text.includes(piece), `${JSON.stringify(piece)} is part of ${JSON.stringify(text)}`);
    }
    assert.equal(await page.locator('.bubble.assistant').count(), 1);
    assert.equal(await page.locator('.chip').count(), 1);
  } finally {
    await stack.mockConfig({ chunk_delay_ms: 25 });
  }
  await context.close();
});

test('a session ended elsewhere (logged out everywhere) signs the page out with a word why', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `everywhere-${Date.now()}@example.com`);
  const { token } = await sessionOf(page);
  // Another device chooses "log out everywhere".
  assert.equal((await stack.call('POST', '/api/auth/logout?all=true', token)).status, 204);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByText('Your session has ended').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('todo-chat.session')), null);
  await context.close();
});
