// The user's time zone (issue 21): a sign-up takes the browser's, and a
// page in another zone than the account's offers to switch, once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, seriousViolations, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await Stack.start('zones');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const session = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('todo-chat.session')));
const accountZone = async (page) => {
  const { token } = await session(page);
  return (await stack.call('GET', '/api/auth/me', token)).body.user.time_zone;
};

test('an account made in Berlin is in Berlin, and nothing is offered', async () => {
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'Europe/Berlin' });
  await signUpInPage(page, `berlin-${Date.now()}@example.com`);
  assert.equal(await accountZone(page), 'Europe/Berlin');
  await page.locator('aside.tasks').waitFor();
  assert.equal(await page.getByRole('region', { name: 'Time zone' }).count(), 0);
  await context.close();
});

test('a UTC account opened in Tokyo is offered Tokyo; taking it moves the account, keeping it is remembered', async () => {
  const utc = await openApp(browser, stack.base, { timezoneId: 'UTC' });
  const email = `traveller-${Date.now()}@example.com`;
  await signUpInPage(utc.page, email);
  assert.equal(await accountZone(utc.page), 'UTC');
  const saved = await session(utc.page);
  await utc.context.close();

  // The same session in a browser in Tokyo.
  const open = async () => {
    const tokyo = await openApp(browser, stack.base, { timezoneId: 'Asia/Tokyo' });
    await tokyo.page.evaluate((s) => localStorage.setItem('todo-chat.session', JSON.stringify(s)), saved);
    await tokyo.page.reload();
    return tokyo;
  };
  let tokyo = await open();
  const offer = tokyo.page.getByRole('region', { name: 'Time zone' });
  await offer.waitFor();
  assert.match(await offer.textContent(), /uses UTC.*this browser is in Asia\/Tokyo/);
  assert.deepEqual(await seriousViolations(tokyo.page), []);
  // "Keep" is remembered: not offered again on a reload.
  await offer.getByRole('button', { name: 'Keep UTC' }).click();
  await offer.waitFor({ state: 'detached' });
  await tokyo.page.reload();
  await tokyo.page.locator('aside.tasks').waitFor();
  await tokyo.page.waitForTimeout(500);
  assert.equal(await offer.count(), 0, 'kept: not offered again');
  assert.equal(await accountZone(tokyo.page), 'UTC');
  await tokyo.context.close();

  // A fresh profile in Tokyo is offered again, and takes it.
  tokyo = await open();
  const again = tokyo.page.getByRole('region', { name: 'Time zone' });
  await again.getByRole('button', { name: 'Use Asia/Tokyo' }).click();
  await again.waitFor({ state: 'detached' });
  await tokyo.page.getByRole('status').filter({ hasText: 'Time zone set to Asia/Tokyo.' }).waitFor();
  assert.equal(await accountZone(tokyo.page), 'Asia/Tokyo');
  assert.deepEqual(await tokyo.page.evaluate(() => window.__errors), []);
  await tokyo.context.close();
});

test('the zone is shown in the top bar and changed in a small dialog; Escape cancels', async () => {
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'UTC' });
  await signUpInPage(page, `settings-${Date.now()}@example.com`);
  const button = page.getByRole('button', { name: 'Time zone: UTC. Change' });
  await button.click();
  const dialog = page.getByRole('dialog', { name: 'Time zone' });
  await dialog.waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  // Escape leaves it as it was.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await accountZone(page), 'UTC');

  await button.click();
  await dialog.getByLabel('Zone').selectOption('America/New_York');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Time zone: America/New_York. Change' }).waitFor();
  assert.equal(await accountZone(page), 'America/New_York');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});

test("due days and times are shown on the account's clock, and move with it", async () => {
  // The browser is in UTC; the account in Tokyo (UTC+9).
  const { context, page } = await openApp(browser, stack.base, { timezoneId: 'UTC' });
  await signUpInPage(page, `clock-${Date.now()}@example.com`);
  const { token, user } = await session(page);
  assert.equal((await stack.call('PATCH', '/api/auth/me', token, { time_zone: 'Asia/Tokyo' })).status, 200);
  const tokyoDay = (offsetDays) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date(Date.now() + offsetDays * 86_400_000));
  for (const body of [
    // 02:00 UTC is 11:00 in Tokyo, and 22:00 the day before in New York.
    { title: 'timed', due_at: '2030-06-01T02:00:00Z' },
    { title: 'all day', due_date: '2030-06-02' },
    { title: 'yesterday in Tokyo', due_date: tokyoDay(-1) },
  ]) {
    assert.equal((await stack.call('POST', `/api/${user.id}/tasks`, token, body)).status, 201);
  }
  await page.reload();
  const meta = (title) => page.locator('.task', { hasText: title }).locator('.due');
  await meta('timed').waitFor();
  assert.match(await meta('timed').textContent(), /^due Jun 1, 2030 (11:00\sAM|11:00)$/);
  assert.equal(await meta('all day').textContent(), 'due Jun 2, 2030', 'a day has no time');
  assert.match(await meta('yesterday in Tokyo').textContent(), /^overdue · yesterday$/);
  assert.match(await page.locator('.task', { hasText: 'yesterday in Tokyo' }).getAttribute('class'), /overdue/);

  // In New York the timed task falls on the day before; the day of the
  // all-day one stays. The page learns it from the live stream.
  await page.getByRole('button', { name: 'Time zone: Asia/Tokyo. Change' }).click();
  const dialog = page.getByRole('dialog', { name: 'Time zone' });
  await dialog.getByLabel('Zone').selectOption('America/New_York');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.locator('.task', { hasText: 'timed' }).locator('.due', { hasText: /May 31, 2030 (10:00\sPM|22:00)/ }).waitFor();
  assert.equal(await meta('all day').textContent(), 'due Jun 2, 2030');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});
