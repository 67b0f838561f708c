// The API's interactive documentation at /docs works without the internet:
// every request the page makes that leaves 127.0.0.1 is refused, and the
// operations still render from the files built into todo-api.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch } from './support/browser.mjs';
import { ARTIFACTS, Stack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await Stack.start('docs');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('/docs renders every operation of /openapi.json with nothing fetched from elsewhere', async () => {
  const context = await browser.newContext({ baseURL: stack.base });
  const requested = [];
  const refused = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    requested.push(url.href);
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
    refused.push(url.href);
    return route.abort('internetdisconnected');
  });
  await context.addInitScript(() => {
    window.__errors = [];
    window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__errors.push(`CSP blocked ${e.blockedURI} (${e.violatedDirective})`));
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[page] ${m.text()}`);
  });

  const response = await page.goto('/docs');
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/docs/');

  const doc = (await stack.call('GET', '/openapi.json')).body;
  assert.match(doc.openapi, /^3\.1\./);
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => ({ method: method.toUpperCase(), path, id: item[method].operationId })));
  assert.ok(operations.length >= 19, `the document lists the API (${operations.length} operations)`);

  await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
  await page.getByRole('heading', { name: 'Todo Chat API' }).waitFor();
  for (const { method, path } of operations) {
    const block = page.locator('.opblock', {
      has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
    }).filter({ has: page.locator('.opblock-summary-method', { hasText: new RegExp(`^${method}$`) }) });
    assert.equal(await block.count(), 1, `${method} ${path} is shown once`);
  }
  // The bearer scheme is there to use.
  await page.getByRole('button', { name: /Authorize/ }).first().waitFor();

  mkdirSync(join(ARTIFACTS, 'screenshots'), { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'screenshots', 'docs.png') });

  // An operation opens with its parameters and responses.
  const create = page.locator('.opblock-post', {
    has: page.locator('.opblock-summary-path[data-path="/api/{user_id}/tasks"]'),
  });
  await create.locator('.opblock-summary').click();
  await create.locator('.responses-table').first().waitFor();
  assert.ok(await create.getByText('201', { exact: true }).count() > 0, 'the 201 response is listed');

  assert.deepEqual(refused, [], 'no request left 127.0.0.1');
  assert.ok(requested.some((u) => u.endsWith('/openapi.json')), 'the page loaded the document from todo-api');
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});
