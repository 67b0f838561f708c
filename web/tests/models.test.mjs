// Real models misbehave (issue 11): a stream that stalls and is retried,
// an answer cut at the output limit. What a person sees in the page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openApp, signUpInPage } from './support/browser.mjs';
import { Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  // A stall is noticed after a second of silence; answers stop at 30 tokens.
  stack = await Stack.start('models', { OPENAI_IDLE_TIMEOUT_SECONDS: '1', OPENAI_MAX_OUTPUT_TOKENS: '30' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function mock(path, body) {
  const response = await fetch(`${stack.mockUrl}/_mock/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, await response.text());
}

test('a stream that stalls mid-answer is retried, and the page shows the answer once, not twice', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `stall-${Date.now()}@example.com`);
  await stack.mockConfig({ chunk_delay_ms: 25, behaviour: 'plain_text' });
  // The first attempt streams "Sure," and falls silent; the retry writes it all.
  await mock('fail', { stall_after_chunks: 2 });
  try {
    const composer = page.getByLabel('Message the assistant');
    await composer.fill('note that I called the bank');
    await composer.press('Enter');
    const answer = page.locator('.bubble.assistant .text:not(.streaming)');
    await answer.waitFor({ timeout: 30_000 });
    assert.equal(await answer.textContent(), 'Sure, noted.');
    const streamed = await page.evaluate(() => window.__streamed);
    assert.ok(streamed.includes('Sure,'), `the stalled attempt's text was shown: ${JSON.stringify(streamed)}`);
    // Without the restart signal the retry's text would follow the stalled
    // attempt's ("Sure,Sure, noted."): every draft is a start of the answer.
    for (const draft of streamed) {
      assert.ok('Sure, noted.'.startsWith(draft), `${JSON.stringify(draft)} in ${JSON.stringify(streamed)}`);
    }
    assert.equal(await page.locator('.bubble.assistant').count(), 1);
  } finally {
    await stack.mockConfig({ chunk_delay_ms: 25 });
  }
  await context.close();
});

test('an answer cut at the output limit is kept and says it was cut short', async () => {
  const { context, page } = await openApp(browser, stack.base);
  await signUpInPage(page, `ramble-${Date.now()}@example.com`);
  await stack.mockConfig({ chunk_delay_ms: 10, behaviour: 'ramble' });
  try {
    const composer = page.getByLabel('Message the assistant');
    await composer.fill('tell me everything about my tasks');
    await composer.press('Enter');
    const answer = page.locator('.bubble.assistant .text:not(.streaming)');
    await answer.waitFor({ timeout: 30_000 });
    const text = await answer.textContent();
    assert.match(text, /^Let me think about your tasks/);
    assert.match(text, /My answer was cut short/);
    assert.equal(await page.locator('.bubble.assistant.failed').count(), 0, 'a normal answer, not a failure');
  } finally {
    await stack.mockConfig({ chunk_delay_ms: 25 });
  }
  await context.close();
});
