// The web app in Debian's Chromium against the real todo-api + todo-worker
// on PostgreSQL and RabbitMQ (mock-openai as the model). One account's story,
// in order: each test builds on the state the one before left.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, logInInPage, openApp, seriousViolations, signUpInPage } from './support/browser.mjs';
import { ARTIFACTS, Stack, waitFor } from './support/stack.mjs';

const SHOTS = join(ARTIFACTS, 'screenshots');
const EMAIL = `ada-${Date.now()}@example.com`;
let stack;
let browser;
let main; // { context, page } of the first browser profile

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await Stack.start('app');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const tasksPanel = (page) => page.locator('aside.tasks');
const taskRow = (page, title) => tasksPanel(page).locator('li.task', { has: page.getByRole('button', { name: `${title}, edit title`, exact: true }) });

async function token(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session') ?? 'null')?.token);
}

test('sign up, ask for a task: the message shows at once, the answer streams, chip and task appear live', async () => {
  main = await openApp(browser, stack.base, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const { page } = main;
  const index = await page.request.get('/');
  assert.match(index.headers()['content-security-policy'], /default-src 'self'/, 'served under the CSP');
  await signUpInPage(page, EMAIL);

  const composer = page.getByLabel('Message the assistant');
  await composer.fill('add buy milk tomorrow');
  await composer.press('Enter');
  // Shown before any answer could exist.
  await page.locator('.bubble.user', { hasText: 'add buy milk tomorrow' }).waitFor({ timeout: 2000 });
  assert.equal(await composer.inputValue(), '', 'the box is cleared for the next message');

  await page.locator('.chip', { hasText: /^added: buy milk · due tomorrow/ }).waitFor();
  await taskRow(page, 'buy milk').waitFor();
  const answer = page.locator('.bubble.assistant .text:not(.streaming)', { hasText: 'buy milk' });
  await answer.waitFor();

  const streamed = await page.evaluate(() => window.__streamed);
  assert.ok(streamed.length >= 2, `the answer grew in at least two steps: ${JSON.stringify(streamed)}`);
  assert.ok((await answer.textContent()).startsWith(streamed.at(-1)), 'what streamed is the start of the answer');
  assert.ok(await page.locator('nav.conversations li.current').isVisible(), 'the new conversation is listed and open');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
});

test('Shift+Enter makes a new line; Enter sends', async () => {
  const { page } = main;
  const composer = page.getByLabel('Message the assistant');
  await composer.fill('add call mom');
  await composer.press('Shift+Enter');
  await composer.pressSequentially('friday');
  assert.equal(await composer.inputValue(), 'add call mom\nfriday');
  await composer.fill('');
});

test('a tick shows in a second browser within a second; a REST change shows in the page', async () => {
  const { page } = main;
  const second = await openApp(browser, stack.base, { viewport: { width: 1280, height: 800 } });
  await logInInPage(second.page, EMAIL);
  const theirs = taskRow(second.page, 'buy milk').getByRole('checkbox');
  await theirs.waitFor();
  assert.equal(await theirs.isChecked(), false);

  await taskRow(page, 'buy milk').getByRole('checkbox').check();
  await second.page.waitForFunction(
    () => document.querySelector('aside.tasks li.task input[type=checkbox]')?.checked === true,
    null,
    { timeout: 1000 },
  );

  // Changes through the REST API, as any other client makes them.
  const session = await token(page);
  const me = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')).user.id);
  const id = Number(await taskRow(page, 'buy milk').getAttribute('data-task-id'));
  const renamed = await stack.call('PUT', `/api/${me}/tasks/${id}`, session, { title: 'buy oat milk' });
  assert.equal(renamed.status, 200);
  await taskRow(page, 'buy oat milk').waitFor();
  await taskRow(second.page, 'buy oat milk').waitFor();

  const due = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const created = await stack.call('POST', `/api/${me}/tasks`, session, {
    title: 'file taxes', priority: 'high', due_at: due, tags: ['money', 'home'],
  });
  assert.equal(created.status, 201);
  const row = taskRow(page, 'file taxes');
  await row.waitFor();
  assert.match(await row.getAttribute('class'), /overdue/, 'a task past its due date is highlighted');
  const meta = await row.locator('.meta').textContent();
  for (const shown of ['overdue', 'high', '#money', '#home']) assert.ok(meta.includes(shown), `${shown} in ${meta}`);
  await second.context.close();
});

test('filters, search and sort change what the list shows', async () => {
  const { page } = main;
  const titles = () => tasksPanel(page).locator('li.task .title').allTextContents();
  await page.getByRole('button', { name: 'Completed', exact: true }).click();
  assert.deepEqual(await titles(), ['buy oat milk']);
  await page.getByRole('button', { name: 'Pending', exact: true }).click();
  assert.deepEqual(await titles(), ['file taxes']);
  await page.getByRole('button', { name: 'All', exact: true }).click();
  await page.getByLabel('Search tasks').fill('OAT');
  assert.deepEqual(await titles(), ['buy oat milk']);
  await page.getByLabel('Search tasks').fill('');
  await page.getByLabel('Sort').selectOption('priority');
  assert.deepEqual(await titles(), ['file taxes', 'buy oat milk']);
  await page.getByLabel('Sort').selectOption('due');
  // The README's picture: a conversation with chips beside a mixed task list.
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: join(SHOTS, 'main-light.png') });
});

test('keyboard alone: send a message, tick a task, rename it, delete it', async () => {
  const { page } = main;
  await page.getByLabel('Message the assistant').focus();
  await page.keyboard.type('add water the plants');
  await page.keyboard.press('Enter');
  const row = taskRow(page, 'water the plants');
  await row.waitFor();

  await row.getByRole('checkbox').focus();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => [...document.querySelectorAll('aside.tasks li.task')]
    .find((li) => li.textContent.includes('water the plants'))?.querySelector('input').checked);
  await page.keyboard.press('Space'); // and back to pending
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter'); // the title button opens the editor
  const editor = page.getByLabel('Task title');
  await editor.waitFor();
  await editor.fill('water the garden');
  await page.keyboard.press('Enter');
  const renamed = taskRow(page, 'water the garden');
  await renamed.waitFor();
  assert.equal(await renamed.getByRole('checkbox').isChecked(), false);
  await renamed.getByRole('button', { name: /^Delete task/ }).focus();
  await page.keyboard.press('Enter');
  await renamed.waitFor({ state: 'detached' });
});

test('text from tasks and the model is shown as text, never as HTML', async () => {
  const { page } = main;
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs += 1;
    void d.dismiss();
  });
  const evil = '<img src=x onerror=alert(1)>';
  const session = await token(page);
  const me = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')).user.id);
  assert.equal((await stack.call('POST', `/api/${me}/tasks`, session, { title: evil })).status, 201);
  await taskRow(page, evil).waitFor();
  const composer = page.getByLabel('Message the assistant');
  await composer.fill(`add ${evil}`);
  await composer.press('Enter');
  await page.locator('.chip', { hasText: `added: ${evil}` }).waitFor();
  assert.equal(await page.locator('main img, aside img').count(), 0, 'no element was made from the text');
  assert.equal(dialogs, 0);
});

test('reload keeps the conversation and the tasks', async () => {
  const { page } = main;
  await page.reload();
  await page.locator('.bubble.user', { hasText: 'add buy milk tomorrow' }).waitFor();
  await page.locator('.chip', { hasText: /^added: buy milk/ }).waitFor();
  await taskRow(page, 'buy oat milk').waitFor();
  assert.equal(await page.locator('.bubble.user', { hasText: 'add buy milk tomorrow' }).count(), 1);
});

test('light, dark and phone width: screenshots, and no serious accessibility violations', async () => {
  const { page } = main;
  assert.deepEqual(await seriousViolations(page), [], 'main screen, light');

  const dark = await openApp(browser, stack.base, { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await logInInPage(dark.page, EMAIL);
  await dark.page.locator('nav.conversations li button.open').first().click();
  await dark.page.locator('.chip').first().waitFor();
  await dark.page.screenshot({ path: join(SHOTS, 'main-dark.png') });
  assert.deepEqual(await seriousViolations(dark.page), [], 'main screen, dark');
  await dark.context.close();

  const phone = await openApp(browser, stack.base, { viewport: { width: 360, height: 740 }, colorScheme: 'light', isMobile: true, hasTouch: true });
  assert.deepEqual(await seriousViolations(phone.page), [], 'log-in screen');
  await logInInPage(phone.page, EMAIL);
  await phone.page.locator('.panels').getByRole('button', { name: 'History' }).click();
  await phone.page.locator('nav.conversations li button.open').first().click();
  await phone.page.locator('.chip').first().waitFor();
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing sticks out sideways at 360 px (${overflow} px)`);
  await phone.page.screenshot({ path: join(SHOTS, 'phone-chat.png') });
  assert.deepEqual(await seriousViolations(phone.page), [], 'phone, chat');
  await phone.page.locator('.panels').getByRole('button', { name: 'Tasks' }).click();
  await phone.page.screenshot({ path: join(SHOTS, 'phone-tasks.png') });
  assert.deepEqual(await seriousViolations(phone.page), [], 'phone, tasks');
  await phone.context.close();
});

test('conversations: older ones page in, and one can be deleted (its history goes too)', async () => {
  const { page } = main;
  const { token, user } = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
  // "done with N" in a new conversation: the chip says which task was completed.
  const first = await stack.call('POST', `/api/${user.id}/chat`, token, { message: 'done with 2' }, stack.base, { prefer: 'wait=30' });
  assert.equal(first.body.status, 'completed');
  // One at a time, each answered before the next is sent: an answer is
  // activity too and moves its conversation up, so sent all at once their
  // answers would finish in any order.
  for (let i = 0; i < 30; i++) {
    const posted = await stack.call('POST', `/api/${user.id}/chat`, token, { message: `hello number ${i}` }, stack.base, { prefer: 'wait=30' });
    assert.equal(posted.body.status, 'completed');
  }
  const list = page.locator('nav.conversations ul.conversation-list > li');
  await page.waitForFunction(() => document.querySelectorAll('nav.conversations ul.conversation-list > li').length === 32);
  // Newest first, live: the last one sent is on top.
  assert.match(await list.first().textContent(), /hello number 29/);

  // After a reload only the first page is there; the rest comes on demand.
  await page.reload();
  await page.getByRole('button', { name: 'Show older conversations' }).waitFor();
  assert.equal(await list.count(), 30);
  await page.getByRole('button', { name: 'Show older conversations' }).click();
  await page.waitForFunction(() => document.querySelectorAll('nav.conversations ul.conversation-list > li').length === 32);
  assert.equal(await page.getByRole('button', { name: 'Show older conversations' }).count(), 0);

  const done = list.filter({ hasText: 'done with 2' });
  await done.getByRole('button', { name: 'done with 2', exact: false }).first().click();
  await page.locator('.chip', { hasText: /^completed #2$/ }).waitFor();

  const id = /#\/c\/(.+)$/.exec(page.url())[1];
  await done.getByRole('button', { name: /^Delete conversation/ }).click();
  await done.getByRole('button', { name: 'Delete', exact: true }).click();
  await done.waitFor({ state: 'detached' });
  assert.equal(await list.count(), 31);
  assert.equal(await page.getByRole('heading', { name: 'New conversation' }).count(), 1, 'the open conversation was the one deleted');
  assert.equal((await stack.call('GET', `/api/${user.id}/conversations/${id}/messages`, token)).status, 404);
});

test('log out: while the server cannot be reached the page says so and keeps trying; then no token is left and it no longer works', async () => {
  const { page } = main;
  const session = await token(page);
  assert.ok(session);
  assert.equal((await stack.call('GET', '/api/auth/me', session)).status, 200);
  // The first two attempts never reach the server, the third gets a 503.
  let attempts = 0;
  await page.route('**/api/auth/logout', (route) => {
    attempts += 1;
    if (attempts <= 2) return route.abort('internetdisconnected');
    if (attempts === 3) return route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"try later"}}' });
    return route.continue();
  });
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('alert').filter({ hasText: 'Could not end your session on the server' }).waitFor();
  // Not signed out while the token still works: the session stays visibly open.
  assert.equal(await token(page), session);
  assert.equal((await stack.call('GET', '/api/auth/me', session)).status, 200);
  assert.equal(await page.getByRole('heading', { name: 'Log in' }).count(), 0);
  // It goes through by itself once the server answers.
  await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 20_000 });
  assert.ok(attempts >= 4, `${attempts} attempts`);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(session), 'the token is gone from storage');
  await waitFor('the revoked token to be refused', async () => (await stack.call('GET', '/api/auth/me', session)).status === 401, 5000);
  await main.context.close();
});
