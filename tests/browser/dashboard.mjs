#!/usr/bin/env node
// Browser test of the operator dashboard (issue 11), in headless Debian Chromium via playwright-core.
//
//   node tests/browser/dashboard.mjs URL SESSION_ID [SCREENSHOT]
//
// URL: where the dashboard is served (the indexer's `/`). SESSION_ID: a session the store holds (UUID), or
// `auto`: the session of the first SessionRegistered event the indexer's API lists (waited for).
// SCREENSHOT: PNG path to keep as the test artifact (default target/browser/dashboard.png).
// Checks, in order: the page loads (HTTP 2xx); both chains' sync status is shown with a block number;
// at least one slot row; the page refreshes itself (live data); searching SESSION_ID shows that session
// with its SessionAnchor tuple (the verifyChunk data), and searching its owner lists sessions; no console
// error (a 503 is reported, not fatal), no uncaught exception and no request leaving the page's origin. Exits 0 when all hold, 1 with a message naming the failed check.
// Environment: CHROMIUM (default /usr/bin/chromium), DASHBOARD_TIMEOUT_MS (default 30000, per check).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [url, sessionArg, shotArg] = process.argv.slice(2);
if (!url || !sessionArg) {
  console.error('usage: node tests/browser/dashboard.mjs URL SESSION_ID|auto [SCREENSHOT.png]');
  process.exit(2);
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (sessionArg !== 'auto' && !UUID.test(sessionArg)) {
  console.error(`dashboard test: SESSION_ID "${sessionArg}" is not a UUID (or "auto")`);
  process.exit(2);
}
const shot = path.resolve(shotArg || 'target/browser/dashboard.png');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const timeout = Number(process.env.DASHBOARD_TIMEOUT_MS || 30000);

// `auto`: the first anchored session the API knows (GET v1/events?event=SessionRegistered&limit=1).
async function anySession() {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(new URL('v1/events?event=SessionRegistered&limit=1', url));
      const body = await r.json();
      const items = Array.isArray(body) ? body : (body.items ?? []);
      const sid = String(items[0]?.args?.sessionId ?? '').toLowerCase();
      if (/^0x[0-9a-f]{32}0{32}$/.test(sid)) {
        const h = sid.slice(2, 34);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      last = r.ok ? 'no SessionRegistered event yet' : `HTTP ${r.status}`;
    } catch (e) { last = e.message; }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(`no anchored session to search for within ${timeout} ms (${last})`);
}
let sessionId;
try { sessionId = sessionArg === 'auto' ? await anySession() : sessionArg; }
catch (e) { console.error(`dashboard test FAILED at "pick a session": ${e.message}`); process.exit(1); }
if (sessionArg === 'auto') console.log(`dashboard test: session ${sessionId} (from the API's SessionRegistered events)`);
const origin = new URL(url).origin;
const bytes32 = '0x' + sessionId.replace(/-/g, '').toLowerCase() + '0'.repeat(32);

// TOOLCHAIN.md "Browser tests": playwright adds --headless itself; the user data dir is fresh per run.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];

const consoleErrors = [];
const foreign = [];
let step = 'launch Chromium';
const log = (m) => console.log(`dashboard test: ${m}`);

const profile = mkdtempSync(path.join(tmpdir(), 'lucid-chromium-'));
let context;
let page;
let failed = null;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: FLAGS, viewport: { width: 1440, height: 900 }, timeout,
  });
  page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url || '';
    // /ready answers 503 while a chain is behind: a legitimate state the page shows, logged by Chromium
    // as a failed resource load. A 503 elsewhere is the server saying "busy, retry" (the page shows the
    // last good data and retries): reported, not fatal. Any other console error fails the test.
    if (/Failed to load resource: .*status of 503/.test(m.text())) {
      if (!/\/ready(\?|$)/.test(where)) console.log(`dashboard test: warning: 503 from ${where}`);
      return;
    }
    consoleErrors.push(`${m.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (/^(data|blob|about):/.test(u)) return;
    if (new URL(u).origin !== origin) foreign.push(u);
  });

  step = `load ${url}`;
  const resp = await page.goto(url, { waitUntil: 'load' });
  if (!resp || !resp.ok()) throw new Error(`HTTP ${resp ? resp.status() : 'no response'}`);
  const title = await page.title();
  if (!/Lucid/.test(title)) throw new Error(`unexpected page title "${title}"`);

  step = 'sync status of both chains';
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid=chain-row]')];
    const hasBlock = (r) => /\d/.test(r.querySelector('[data-testid=chain-head]')?.textContent || '') &&
      /\d/.test(r.querySelector('[data-testid=chain-checkpoint]')?.textContent || '');
    const roles = new Set(rows.filter(hasBlock).map((r) => r.dataset.chainRole));
    return roles.has('on-system') && roles.has('payment');
  });
  const chains = await page.$$eval('[data-testid=chain-row]', (rs) => rs.map((r) =>
    `${r.dataset.chainRole} ${r.dataset.chainId}: head ${r.querySelector('[data-testid=chain-head]').textContent}, ` +
    `checkpoint ${r.querySelector('[data-testid=chain-checkpoint]').textContent}`));
  log(`chains: ${chains.join('; ')}`);

  step = 'at least one slot row';
  await page.waitForSelector('[data-testid=slot-row]');
  const slots = await page.$$eval('[data-testid=slot-row]', (rs) => ({ rows: rs.length, withResult: rs.filter((r) => r.dataset.reason).length }));
  log(`slots: ${slots.rows} rows, ${slots.withResult} with a result`);

  step = 'live data (the page refreshes itself)';
  const count0 = Number(await page.getAttribute('[data-testid=last-refresh]', 'data-refresh-count'));
  await page.waitForFunction((c) => Number(document.querySelector('[data-testid=last-refresh]').dataset.refreshCount) > c, Math.max(count0, 1));

  step = 'the gas-per-session chart has data (sessions.gas_used from the anchoring receipts)';
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-gas-per-session]')?.dataset.points || 0) > 0);
  log(`gas chart: ${await page.getAttribute('[data-testid=chart-gas-per-session]', 'aria-label')}`);

  step = `search finds session ${sessionId}`;
  await page.fill('[data-testid=session-search-input]', sessionId);
  await page.click('[data-testid=session-search-submit]');
  const detail = page.locator(`[data-testid=session-detail][data-session-id="${sessionId.toLowerCase()}"]`);
  try {
    await detail.waitFor({ state: 'visible' });
  } catch (e) {
    const msg = await page.textContent('[data-testid=session-search-message]').catch(() => '');
    throw new Error(`no session detail shown; the page says: "${(msg || '').trim()}"`);
  }
  const tuple = (await detail.locator('[data-testid=session-anchor-tuple]').textContent()) || '';
  if (!tuple.toLowerCase().includes(bytes32)) throw new Error(`SessionAnchor tuple lacks ${bytes32}: ${tuple}`);
  const status = (await detail.locator('[data-testid=session-detail-status]').textContent().catch(() => '')) || '?';
  log(`session ${sessionId}: ${status.trim()}, tuple ${tuple.trim().slice(0, 80)}…`);

  step = 'search by the session\'s owner lists sessions';
  const owner = ((await detail.locator('[data-testid=session-owner]').textContent()) || '').trim().toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(owner)) throw new Error(`the session detail shows no owner address (got "${owner}")`);
  await page.fill('[data-testid=session-search-input]', owner);
  await page.click('[data-testid=session-search-submit]');
  await page.waitForSelector('[data-testid=session-list] [data-testid=session-row]');
  const listed = await page.$$eval('[data-testid=session-list] [data-testid=session-row]', (rs) => rs.length);
  log(`owner ${owner}: ${listed} session(s) listed`);
  // Back to the session, so the screenshot shows its verifyChunk data.
  await page.fill('[data-testid=session-search-input]', sessionId);
  await page.click('[data-testid=session-search-submit]');
  await detail.waitFor({ state: 'visible' });

  step = `screenshot to ${shot}`;
  mkdirSync(path.dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  log(`screenshot: ${shot}`);

  step = 'no console errors, no foreign requests';
  if (consoleErrors.length) throw new Error(`${consoleErrors.length} console error(s):\n  ${consoleErrors.join('\n  ')}`);
  if (foreign.length) throw new Error(`requests outside ${origin}:\n  ${[...new Set(foreign)].join('\n  ')}`);
} catch (e) {
  failed = `${step}: ${e.message.split(/\n(=====|Call log:)/)[0].trim()}`;
  if (page && !page.isClosed()) {
    const failShot = shot.replace(/(\.png)?$/, '-failure.png');
    mkdirSync(path.dirname(failShot), { recursive: true });
    await page.screenshot({ path: failShot, fullPage: true }).then(() => console.error(`dashboard test: failure screenshot: ${failShot}`), () => {});
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
if (failed) {
  console.error(`dashboard test FAILED at "${failed}"`);
  if (consoleErrors.length && !failed.includes('console error')) console.error(`console errors seen:\n  ${consoleErrors.join('\n  ')}`);
  process.exit(1);
}
log('ok');
