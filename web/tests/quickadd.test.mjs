// Quick add in the task panel (issue 22): what the server's grammar
// recognises shows as chips while typing; a chip dismissed (click, Delete
// on it, or Backspace right after its words) keeps its words in the title;
// Enter adds exactly what the preview showed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, seriousViolations, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await Stack.start('quickadd');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A signed-up page in Berlin, its session, and the add box. */
async function signedUp(name) {
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'Europe/Berlin' });
  await signUpInPage(page, `${name}-${Date.now()}@example.com`);
  const session = await page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
  const box = page.getByRole('textbox', { name: 'New task' });
  return { context, page, session, box };
}

const chipList = (page) => page.getByRole('list', { name: 'Recognised in the new task' });

async function chipLabels(page) {
  return chipList(page).getByRole('button').evaluateAll((buttons) => buttons.map((b) => b.textContent.replace('×', '').trim()));
}

async function tasksOf(session) {
  const res = await stack.call('GET', `/api/${session.user.id}/tasks`, session.token);
  return res.body.tasks;
}

/** Tomorrow's date in Berlin, as the API writes days. */
function berlinTomorrow() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date(Date.now() + 86_400_000));
}

test('a phrase with every kind of chip is added exactly as previewed', async () => {
  const { context, page, session, box } = await signedUp('chips');
  const listTop = await page.locator('.toolbar').boundingBox();
  await box.fill('call mom tomorrow at 5pm p1 #family every week, 30 minutes before');
  await chipList(page).getByRole('button', { name: /^Reminder/ }).waitFor();
  const tomorrow = new Date(`${berlinTomorrow()}T12:00:00Z`).toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' });
  assert.deepEqual(await chipLabels(page), [
    'Tomorrow 17:00', 'Urgent', '#family', `Every ${tomorrow}`, 'Reminder 30 minutes before',
  ]);
  assert.equal(await page.locator('.qa-title').textContent(), '“call mom”');
  // The chips have a line of their own from the start: nothing below moved.
  assert.deepEqual(await page.locator('.toolbar').boundingBox(), listTop);
  assert.deepEqual(await seriousViolations(page), []);

  await box.press('Enter');
  const row = page.locator('li.task', { hasText: 'call mom' });
  await row.waitFor();
  await row.locator('.tag', { hasText: '#family' }).waitFor();
  assert.equal(await row.locator('.priority').textContent(), 'urgent');
  assert.match(await row.locator('.due').textContent(), /^due tomorrow 5:00\s?PM$/);
  assert.equal(await box.inputValue(), '', 'the box is empty for the next task');
  assert.equal(await chipList(page).count(), 0);

  const [task] = await tasksOf(session);
  assert.equal(task.title, 'call mom');
  assert.equal(task.due_date, berlinTomorrow());
  assert.equal(new Date(task.due_at).toLocaleTimeString('en-GB', { timeZone: 'Europe/Berlin' }), '17:00:00');
  assert.equal(task.priority, 'urgent');
  assert.deepEqual(task.tags, ['family']);
  assert.equal(task.recurrence.rrule, 'FREQ=WEEKLY');
  assert.equal(task.reminders[0].before_due_minutes, 30);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});

test('a dismissed chip keeps its words in the title, by click or by Backspace', async () => {
  const { context, page, session, box } = await signedUp('dismiss');
  await box.fill('pay rent friday #home');
  // Its label depends on today ("Tomorrow", "Friday", "Fri 18 Dec"): found by its words.
  await chipList(page).getByRole('button', { name: /^Date: .*, from “friday”/ }).click();
  await page.locator('.qa-title', { hasText: '“pay rent friday”' }).waitFor();
  assert.deepEqual(await chipLabels(page), ['#home']);
  await box.press('Enter');
  await page.locator('li.task', { hasText: 'pay rent friday' }).waitFor();

  // Backspace right after a chip's words takes the chip, not a letter.
  await box.pressSequentially('book flights tomorrow');
  await chipList(page).getByRole('button', { name: /^Date: Tomorrow/ }).waitFor();
  await box.press('Backspace');
  await chipList(page).waitFor({ state: 'detached' });
  assert.equal(await box.inputValue(), 'book flights tomorrow');
  // A second Backspace edits the text as usual; words typed again are read again.
  await box.press('Backspace');
  assert.equal(await box.inputValue(), 'book flights tomorro');
  await box.press('w');
  await chipList(page).getByRole('button', { name: /^Date: Tomorrow/ }).waitFor();
  await box.press('Backspace');
  await chipList(page).waitFor({ state: 'detached' });
  await box.press('Enter');
  await page.locator('li.task', { hasText: 'book flights tomorrow' }).waitFor();

  const tasks = await tasksOf(session);
  const rent = tasks.find((t) => t.title === 'pay rent friday');
  assert.equal(rent.due_date, null);
  assert.deepEqual(rent.tags, ['home']);
  const flights = tasks.find((t) => t.title === 'book flights tomorrow');
  assert.equal(flights.due_date, null);
  await context.close();
});

test('a title with a false date gets no chip and keeps its words', async () => {
  const { context, page, session, box } = await signedUp('title');
  await box.fill('read The 5th Wave');
  // The preview answered (the summary for screen readers is empty): no chip.
  await page.waitForResponse((r) => r.url().endsWith('/tasks/quick-add/preview'));
  assert.equal(await chipList(page).count(), 0);
  await box.press('Enter');
  await page.locator('li.task', { hasText: 'read The 5th Wave' }).waitFor();
  const [task] = await tasksOf(session);
  assert.equal(task.title, 'read The 5th Wave');
  assert.equal(task.due_date, null);
  await context.close();
});

test('keyboard only, with labels a screen reader reads', async () => {
  const { context, page, session, box } = await signedUp('keys');
  await box.focus();
  await page.keyboard.type('water plants every monday #garden');
  const chip = chipList(page).getByRole('button', {
    name: 'Repeat: Every Monday, from “every monday”. Remove, keeping the words in the title',
  });
  await chip.waitFor();
  assert.equal(await box.getAttribute('aria-describedby'), 'quick-add-summary');
  assert.equal(await page.locator('#quick-add-summary').textContent(), 'Adds “water plants”: Every Monday, #garden.');
  assert.equal(await page.locator('.quick-add [aria-live=polite]').textContent(), 'Recognised: Every Monday, #garden.');

  // Tab past the Add button to the first chip; Delete dismisses it and
  // brings focus back to the box.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), await chip.getAttribute('aria-label'));
  await page.keyboard.press('Delete');
  await page.locator('.qa-title', { hasText: '“water plants every monday”' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'new-task');
  await page.keyboard.press('Enter');
  await page.locator('li.task', { hasText: 'water plants every monday' }).waitFor();
  const [task] = await tasksOf(session);
  assert.equal(task.recurrence, null);
  assert.deepEqual(task.tags, ['garden']);
  assert.deepEqual(await seriousViolations(page), []);
  await context.close();
});
