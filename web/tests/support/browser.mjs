// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // Without these Chromium reaches for Google's hosts, which this machine's network refuses.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh browser profile on the app. Records what a person would see of
 * streaming (each distinct text of the streaming answer) and any page error.
 */
export async function openApp(browser, base, options = {}) {
  const context = await browser.newContext({ baseURL: base, ...options });
  await context.addInitScript(() => {
    window.__streamed = [];
    window.__errors = [];
    window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
    // Anything the Content-Security-Policy had to block is a bug in the build.
    document.addEventListener('securitypolicyviolation', (e) => window.__errors.push(`CSP blocked ${e.blockedURI} (${e.violatedDirective})`));
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('.text.streaming')) {
        const text = el.textContent;
        if (window.__streamed.at(-1) !== text) window.__streamed.push(text);
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[page] ${m.text()}`);
  });
  await page.goto('/');
  return { context, page };
}

export async function signUpInPage(page, email, password = 'correct horse battery') {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill('Ada');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

export async function logInInPage(page, email, password = 'correct horse battery') {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousViolations(page) {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Through the devtools protocol: the page's CSP (rightly) refuses injected script tags.
  await page.evaluate(source);
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
