// A page away longer than the server keeps events gets `resync` and
// fetches everything again instead of trusting a partial replay.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, signUpInPage } from './support/browser.mjs';
import { Stack, waitFor } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  // Events live two seconds; the background loop prunes every second.
  stack = await Stack.start('resync', { EVENT_RETENTION: '2', HEALTH_CHECK_INTERVAL_SECONDS: '1' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('back after the events it missed were pruned: the page re-fetches and shows the changes', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `resync-${Date.now()}@example.com`);
  const { token, user } = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
  const seen = await stack.call('POST', `/api/${user.id}/tasks`, token, { title: 'seen live' });
  assert.equal(seen.status, 201);
  await page.locator('aside.tasks li.task', { hasText: 'seen live' }).waitFor();

  const peer = await stack.startPeer();
  await stack.stopApi();
  await page.locator('.net.offline').waitFor();
  assert.equal((await peer.call('POST', `/api/${user.id}/tasks`, token, { title: 'made while away' })).status, 201);
  assert.equal((await peer.call('DELETE', `/api/${user.id}/tasks/${seen.body.id}`, token)).status, 204);
  // Until the server has forgotten every event of this user (both changes included).
  await waitFor('the events to be pruned', () => stack.sql(`SELECT count(*) FROM events WHERE user_id = '${user.id}'`) === '0', 20_000);

  await stack.startApi();
  await page.locator('.net.online').waitFor({ timeout: 20_000 });
  await page.locator('aside.tasks li.task', { hasText: 'made while away' }).waitFor();
  await page.locator('aside.tasks li.task', { hasText: 'seen live' }).waitFor({ state: 'detached' });
  await context.close();
});
