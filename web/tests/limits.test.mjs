// While the model's shared rate limit holds a turn, the page says so.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  // One model call a minute: the second call of a turn waits about a minute.
  stack = await Stack.start('limits', { OPENAI_RPM: '1' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a turn held by the rate limit shows "waiting for the model, about N s"', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `limits-${Date.now()}@example.com`);
  const composer = page.getByLabel('Message the assistant');
  // The limiter lets a short burst through (the first turn's two calls); the next turn waits.
  for (const message of ['add renew the car insurance', 'add book the dentist']) {
    await composer.fill(message);
    await composer.press('Enter');
  }
  const waiting = page.locator('.bubble.assistant .status', { hasText: /^Waiting for the model, about \d+ s$/ });
  // Sent before the first one was even answered with its id: still one conversation.
  await page.waitForFunction(() => document.querySelectorAll('.turn').length === 2 &&
    document.querySelectorAll('nav.conversations ul.conversation-list > li').length > 0);
  assert.equal(await page.locator('nav.conversations ul.conversation-list > li').count(), 1);
  await waiting.waitFor({ timeout: 20_000 });
  const seconds = Number(/about (\d+) s/.exec(await waiting.textContent())[1]);
  assert.ok(seconds > 2 && seconds <= 70, `a wait in the limiter's range: ${seconds} s`);
  // It counts down while the page waits.
  await page.waitForFunction(
    (before) => Number(/about (\d+) s/.exec(document.querySelector('.bubble.assistant .status')?.textContent ?? '')?.[1]) < before,
    seconds,
    { timeout: 5000 },
  );
  await context.close();
});
