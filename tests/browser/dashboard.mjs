// Drives the aimux dashboard in a real headless Chromium (Debian's, through playwright-core).
// Run by tests/it/dashboard.rs with NODE_PATH pointing at .tools/playwright/node_modules.
//
// env: DASH_URL (http://127.0.0.1:PORT/dashboard), CHROMIUM (executable), USER_DATA_DIR (fresh),
//      SHOTS_DIR (where screenshots go), MODEL (the default model to pick),
//      LOGIN_TOKEN (optional: the bridge has this token; sign in first, then only check that
//      the dashboard works and the session cookie is invisible to scripts),
//      COLOR_SCHEME (optional: light or dark).
// Prints one JSON line on stdout: {"ok":true,"steps":[...],"requests":[...],"problems":[...]}.
// Exits 1 with {"ok":false,"error":...} when a step fails.

import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const DASH_URL = need('DASH_URL');
const SHOTS = need('SHOTS_DIR');
const MODEL = need('MODEL');
const LOGIN_TOKEN = process.env.LOGIN_TOKEN || '';
const prefix = LOGIN_TOKEN ? 'dashboard-login' : 'dashboard';
const origin = new URL(DASH_URL).origin;

const steps = [];
const problems = [];
const requests = [];
const step = (name) => { steps.push(name); };

const context = await chromium.launchPersistentContext(need('USER_DATA_DIR'), {
  executablePath: need('CHROMIUM'),
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  colorScheme: process.env.COLOR_SCHEME === 'dark' ? 'dark' : 'light',
  timeout: 60000,
});

let exitCode = 0;
try {
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(30000);
  let expected403 = 0; // the deliberate wrong-token sign-in
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    if (expected403 > 0 && m.text().includes('status of 403')) { expected403 -= 1; return; }
    problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    requests.push(`${r.method()} ${r.url()}`);
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`external request: ${r.url()}`);
  });
  // A reload aborts the page's own requests still in flight (the refresh after a switch, the
  // live table's poll): those are the browser's doing, not a failure of the server.
  let reloading = false;
  page.on('requestfailed', (r) => {
    const error = r.failure() && r.failure().errorText;
    if (reloading && error === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${error}`);
  });

  const resp = await page.goto(DASH_URL, { waitUntil: 'load' });
  if (!resp || resp.status() !== 200) throw new Error(`GET ${DASH_URL}: ${resp && resp.status()}`);
  step('loaded');

  if (LOGIN_TOKEN) {
    // The bridge has a token: the page asks for it once.
    await page.waitForSelector('#login:not([hidden])');
    await page.screenshot({ path: path.join(SHOTS, `${prefix}-form.png`) });
    expected403 += 1;
    await page.fill('#login-token', 'not-the-token');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#login-error:not([hidden])');
    await page.fill('#login-token', LOGIN_TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#login', { state: 'hidden' });
    step('signed in');
  }

  // Everything the page shows arrives: the link, providers, usage, recent requests, the picker.
  await page.waitForSelector('#node-proxy.ok');
  await page.waitForSelector('#providers li[data-provider]');
  await page.waitForSelector('#recent-table tbody tr:not(.empty)');
  await page.waitForSelector('#models-table tbody tr:not(.empty)');
  await page.waitForSelector('#chart svg rect.bar');
  await page.waitForFunction((m) => [...document.querySelectorAll('#model-select option')].some((o) => o.value === m), MODEL);
  step('data shown');
  await page.screenshot({ path: path.join(SHOTS, `${prefix}-initial.png`), fullPage: true });

  if (LOGIN_TOKEN) {
    await page.click('#websearch-switch');
    await page.waitForSelector('#websearch-switch[aria-checked="true"]:not(.busy)');
    await page.waitForSelector('#messages.ok');
    step('websearch on');
    // A reload keeps the session (the cookie), without asking again.
    reloading = true;
    await page.reload({ waitUntil: 'load' });
    reloading = false;
    await page.waitForSelector('#websearch-switch[aria-checked="true"]');
    if (await page.isVisible('#login')) throw new Error('asked for the token again after a reload');
    step('session kept');
    const visible = await page.evaluate(() => document.cookie);
    if (visible) problems.push(`document.cookie is readable: ${visible}`);
    const html = await page.content();
    if (html.includes(LOGIN_TOKEN)) problems.push('the token is in the page');
    console.log(JSON.stringify({ ok: true, steps, requests, problems }));
    await context.close();
    process.exit(0);
  }

  // Web search: off → on.
  await page.waitForSelector('#websearch-switch[aria-checked="false"]');
  await page.click('#websearch-switch');
  await page.waitForSelector('#websearch-switch[aria-checked="true"]:not(.busy)');
  await page.waitForSelector('#messages.ok');
  step('websearch on');

  // Codex default: native → aimux (desktop on).
  await page.click('#desktop-switch button[data-value="on"]');
  await page.waitForSelector('#desktop-switch button[data-value="on"][aria-checked="true"]');
  await page.waitForSelector('#desktop-switch:not(.busy)');
  await page.waitForSelector('#messages.ok');
  step('desktop on');

  // The default model.
  await page.selectOption('#model-select', MODEL);
  await page.waitForFunction((m) => {
    const d = document.querySelector('#model-detail');
    return d && d.textContent.includes('model ' + m) && !document.querySelector('.select-wrap.busy');
  }, MODEL);
  await page.waitForSelector('#messages.ok');
  step('model picked');

  // Update models.
  await page.click('#update-models');
  await page.waitForSelector('#update-models:not(.busy)');
  await page.waitForSelector('#messages.ok');
  const log = await page.textContent('#messages');
  if (!log.includes('gen-catalog')) throw new Error(`Update models said: ${log}`);
  step('catalog updated');

  // The usage chart switches metric.
  await page.click('#metric-tabs button[data-metric="tokens"]');
  await page.waitForFunction(() => document.querySelector('#chart-title').textContent.startsWith('Tokens'));
  await page.click('#metric-tabs button[data-metric="requests"]');
  step('chart metrics');

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-top.png') });
  step('screenshot');

  // Codex default back to native (desktop off): config.toml is the user's again.
  await page.click('#desktop-switch button[data-value="off"]');
  await page.waitForSelector('#desktop-switch button[data-value="off"][aria-checked="true"]');
  await page.waitForSelector('#desktop-switch:not(.busy)');
  await page.waitForSelector('#messages.ok');
  step('desktop off');

  // Nothing the page holds in script-visible state names a cookie (HttpOnly) or a secret.
  const cookies = await page.evaluate(() => document.cookie);
  if (cookies) problems.push(`document.cookie is readable: ${cookies}`);

  console.log(JSON.stringify({ ok: true, steps, requests, problems }));
} catch (e) {
  exitCode = 1;
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: path.join(SHOTS, 'dashboard-failure.png'), fullPage: true });
  } catch (_) { /* best effort */ }
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), steps, requests, problems }));
} finally {
  await context.close();
}
process.exit(exitCode);
