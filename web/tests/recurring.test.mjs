// Recurring tasks in the web app (issue 21): the rule in words with a repeat
// icon; ticking one moves it to its next date, "Skip" moves it without
// recording it done, and the trash removes the whole series.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, seriousViolations, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await Stack.start('recurring');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a recurring task shows its rule; done and skip move it; delete removes the series', async () => {
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'UTC' });
  await signUpInPage(page, `repeat-${Date.now()}@example.com`);
  const { token, user } = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
  const created = await stack.call('POST', `/api/${user.id}/tasks`, token, {
    title: 'market', due_date: '2030-06-03', recurrence: { rrule: 'FREQ=WEEKLY;BYDAY=MO' },
  });
  assert.equal(created.status, 201);
  const row = page.locator('li.task', { hasText: 'market' });
  await row.locator('.repeats', { hasText: 'every Monday' }).waitFor();
  assert.equal(await row.locator('.due').textContent(), 'due Jun 3, 2030');
  assert.deepEqual(await seriousViolations(page), []);

  // Done: still there, not ticked, a week later.
  // click, not check(): the box comes back unticked once the task has moved.
  await row.getByRole('checkbox', { name: 'Done: market' }).click();
  await row.locator('.due', { hasText: 'due Jun 10, 2030' }).waitFor();
  assert.equal(await row.getByRole('checkbox').isChecked(), false);

  // Skip: a week later again.
  await row.getByRole('button', { name: 'Skip this one: “market”' }).click();
  await row.locator('.due', { hasText: 'due Jun 17, 2030' }).waitFor();
  const done = await stack.call('GET', `/api/${user.id}/tasks/${created.body.id}`, token);
  assert.equal(done.body.due_date, '2030-06-17');

  await row.getByRole('button', { name: 'Delete task “market” and all its repeats' }).click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await stack.call('GET', `/api/${user.id}/tasks/${created.body.id}`, token)).status, 404);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});

test('a task is scheduled without the chat: date, time, repeat and reminder; a bad custom rule is explained', async () => {
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'UTC' });
  await signUpInPage(page, `schedule-${Date.now()}@example.com`);
  const { token, user } = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
  await stack.call('PATCH', '/api/auth/me', token, { time_zone: 'Europe/Berlin' });
  await page.reload();
  const created = await stack.call('POST', `/api/${user.id}/tasks`, token, { title: 'yoga' });
  const row = page.locator('li.task', { hasText: 'yoga' });
  await row.getByRole('button', { name: 'Schedule “yoga”' }).click();
  const dialog = page.getByRole('dialog', { name: 'Schedule “yoga”' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Europe\/Berlin/);
  assert.deepEqual(await seriousViolations(page), []);
  await dialog.getByLabel('Due date').fill('2030-06-04');
  await dialog.getByLabel('Time (optional)').fill('18:30');
  await dialog.getByLabel('Repeat').selectOption({ label: 'Every week' });
  await dialog.getByLabel('Reminder').selectOption({ label: '30 minutes before' });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const saved = (await stack.call('GET', `/api/${user.id}/tasks/${created.body.id}`, token)).body;
  assert.equal(saved.recurrence.text, 'every Tuesday', '4 June 2030 is a Tuesday');
  await row.locator('.repeats', { hasText: 'every Tuesday' }).waitFor();
  assert.equal(saved.due_at, '2030-06-04T16:30:00Z', '18:30 in Berlin');
  assert.equal(saved.recurrence.rrule, 'FREQ=WEEKLY');
  assert.equal(saved.reminders[0].before_due_minutes, 30);
  assert.equal(saved.reminders[0].at, '2030-06-04T16:00:00Z');

  // A custom rule the server refuses: the reason shows, the task is unchanged.
  await row.getByRole('button', { name: 'Schedule “yoga”' }).click();
  await dialog.getByLabel('Repeat').selectOption({ label: 'Custom…' });
  await dialog.getByLabel(/^Rule/).fill('FREQ=HOURLY');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByRole('alert').filter({ hasText: 'recurrence.rrule' }).waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  const after = (await stack.call('GET', `/api/${user.id}/tasks/${created.body.id}`, token)).body;
  assert.equal(after.recurrence.rrule, 'FREQ=WEEKLY');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});
