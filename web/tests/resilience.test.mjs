// The page through a server restart, a failed turn and the model's rate
// limit: what a person sees when things go wrong.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, signUpInPage } from './support/browser.mjs';
import { Stack, waitFor } from './support/stack.mjs';

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

/**
 * A signed-up page whose live events are down from the start (a route sees
 * only new requests), and whose first chat post reaches the server and is
 * stored while its answer never reaches the page.
 */
async function signedUpWithoutEvents(name) {
  const { context, page } = await openApp(browser, stack.base);
  await page.route('**/events*', (route) => route.abort('connectionreset'));
  await signUpInPage(page, `${name}-${Date.now()}@example.com`);
  const { token, user } = await sessionOf(page);
  let cut = false;
  await page.route('**/chat', async (route) => {
    if (route.request().method() !== 'POST' || cut) return route.continue();
    cut = true;
    await route.fetch();
    await route.abort('connectionreset');
  });
  return { context, page, token, user };
}

test('a message whose answer was lost shows as sent, once, when live events come back', async () => {
  const { context, page, token, user } = await signedUpWithoutEvents('lost');
  // A slow answer: the stream is likely back while the turn is half done
  // (its tool ran unseen, its answer still to come).
  await stack.mockConfig({ chunk_delay_ms: 400 });
  try {
    const composer = page.getByLabel('Message the assistant');
    await composer.fill('add pay the gas bill');
    await composer.press('Enter');
    const retry = page.getByRole('button', { name: 'Retry' });
    await retry.waitFor();
    // The stream comes back: the stored message is the one shown as unsent (its key says so).
    await page.unroute('**/events*');
    await page.locator('.chip', { hasText: 'added: pay the gas bill' }).waitFor({ timeout: 30_000 });
    await page.locator('.bubble.assistant .text:not(.streaming)', { hasText: 'Added "pay the gas bill"' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.bubble.user', { hasText: 'add pay the gas bill' }).count(), 1);
    assert.equal(await retry.count(), 0, 'nothing left to retry');
    await page.locator('aside.tasks li.task', { hasText: 'pay the gas bill' }).waitFor();
    const list = await stack.call('GET', `/api/${user.id}/conversations`, token);
    assert.equal(list.body.conversations.length, 1);
  } finally {
    await stack.mockConfig({ chunk_delay_ms: 25 });
  }
  await context.close();
});

test('retrying a message whose answer was lost stores it once', async () => {
  const { context, page, token, user } = await signedUpWithoutEvents('lost-retry');
  const composer = page.getByLabel('Message the assistant');
  await composer.fill('add renew the car insurance');
  await composer.press('Enter');
  const retry = page.getByRole('button', { name: 'Retry' });
  await retry.waitFor();
  await retry.click();
  await retry.waitFor({ state: 'detached' });
  await page.unroute('**/events*');
  await page.locator('.chip', { hasText: 'added: renew the car insurance' }).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('.bubble.user', { hasText: 'add renew the car insurance' }).count(), 1);
  const list = await stack.call('GET', `/api/${user.id}/conversations`, token);
  assert.equal(list.body.conversations.length, 1, JSON.stringify(list.body));
  const messages = await stack.call('GET', `/api/${user.id}/conversations/${list.body.conversations[0].id}/messages`, token);
  assert.deepEqual(messages.body.messages.filter((m) => m.role === 'user').map((m) => m.content), ['add renew the car insurance']);
  const tasks = await stack.call('GET', `/api/${user.id}/tasks`, token);
  assert.deepEqual(tasks.body.tasks.map((t) => t.title), ['renew the car insurance']);
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

test('log out with the server out of reach: "this device only" says the session is still valid, and the page ends it once it can', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `unreachable-${Date.now()}@example.com`);
  const { token } = await sessionOf(page);
  await page.route('**/api/auth/logout', (route) => route.abort('internetdisconnected'));
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Sign out on this device only' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByText('your session is still valid there').waitFor();
  // Said plainly because it is true: the server still takes the token.
  assert.equal((await stack.call('GET', '/api/auth/me', token)).status, 200);
  // The next time the page opens with a connection, it ends the session.
  await page.unroute('**/api/auth/logout');
  await page.reload();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await waitFor('the token to be revoked', async () => (await stack.call('GET', '/api/auth/me', token)).status === 401, 10_000);
  await waitFor('nothing left to revoke', async () => (await page.evaluate(() => localStorage.getItem('todo-chat.unrevoked'))) === null, 5_000);
  await context.close();
});
