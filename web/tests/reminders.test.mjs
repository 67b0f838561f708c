// Reminders in the web app (issue 21): a task shows its next reminder; the
// page asks for notification permission only when the user turns reminders
// on; a reminder that comes due while the page is open shows as a banner,
// as a browser notification, and as a message in the conversation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, seriousViolations, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await Stack.start('reminders');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

// Stands in for the Notification API, recording what the page asks of it:
// headless Chromium shows nothing, and its permission cannot be asked for
// interactively. Permission is 'default' until the page asks, then granted.
const recordNotifications = () => {
  const shown = [];
  const asked = [];
  let permission = 'default';
  class Recorded {
    constructor(title, options) {
      shown.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
    }
    static get permission() { return permission; }
    static requestPermission() {
      asked.push(Date.now());
      permission = 'granted';
      return Promise.resolve(permission);
    }
  }
  window.Notification = Recorded;
  window.__notifications = shown;
  window.__permissionAsked = asked;
};

test('a reminder due while the page is open shows as a banner, a notification and a message', async () => {
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'UTC' });
  await page.addInitScript(recordNotifications);
  await page.reload();
  await signUpInPage(page, `remind-${Date.now()}@example.com`);
  const { token, user } = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));

  // Nothing is asked before the user turns reminders on.
  const toggle = page.getByRole('button', { name: 'Reminders off' });
  await toggle.waitFor();
  assert.equal(await page.evaluate(() => window.__permissionAsked.length), 0);
  await toggle.click();
  await page.getByRole('button', { name: 'Reminders on' }).waitFor();
  assert.equal(await page.evaluate(() => window.__permissionAsked.length), 1);

  const at = new Date(Date.now() + 4000).toISOString();
  const created = await stack.call('POST', `/api/${user.id}/tasks`, token, {
    title: 'call mom', due_at: new Date(Date.now() + 3_600_000).toISOString(), reminders: [{ at }],
  });
  assert.equal(created.status, 201);
  const row = page.locator('li.task', { hasText: 'call mom' });
  await row.locator('.reminder-at', { hasText: /^ ?reminder today/ }).waitFor();

  const banner = page.getByRole('alert', { name: 'Reminders' });
  // Due in an hour: after 23:00 UTC that is tomorrow, and the message says so.
  await banner.getByText(/^Reminder: call mom at \d\d:\d\d( tomorrow)?$/).waitFor({ timeout: 15_000 });
  const shown = await page.evaluate(() => window.__notifications);
  assert.equal(shown.length, 1, JSON.stringify(shown));
  assert.match(shown[0].body, /^Reminder: call mom at /);
  assert.equal(shown[0].tag, `reminder-${created.body.id}-${created.body.reminders[0].at}`);
  assert.deepEqual(await seriousViolations(page), []);

  // Fired: the row has no reminder to come; the message is in its conversation.
  await row.locator('.reminder-at').waitFor({ state: 'detached' });
  await page.locator('.conversation-list li', { hasText: 'Reminders' }).click();
  await page.locator('.turn.notice', { hasText: 'Reminder: call mom at' }).waitFor();

  await banner.getByRole('button', { name: /^Dismiss: Reminder: call mom/ }).click();
  await banner.waitFor({ state: 'detached' });
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});
