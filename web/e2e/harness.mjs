// Shared helpers for the end-to-end tests: the real `portcullis` binary on a temporary
// SQLite database, and Debian's Chromium driven by playwright-core.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const binary = process.env.PORTCULLIS_BIN ?? join(repoRoot, 'target', 'debug', 'portcullis');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const screenshotDir = resolve(process.env.E2E_SCREENSHOTS ?? join(here, 'screenshots'));
/** Token delivery for servers whose test does not pick one: `both` (the default) or `cookie`. */
export const defaultDelivery = process.env.E2E_TOKEN_DELIVERY ?? 'both';

export const PASSWORD = 'Tr0ub4dor&3-horse-staple';
export const ADMIN = { username: 'admin', email: 'admin@example.com', password: 'Gatekeeper-Secret-passw0rd!' };

mkdirSync(screenshotDir, { recursive: true });
console.log(`screenshots: ${screenshotDir} (server token delivery by default: ${defaultDelivery})`);

async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/**
 * Starts the binary on a free port with a fresh database and an admin account.
 * `env` adds or overrides settings (e.g. PORTCULLIS_ACCESS_TTL).
 */
export async function startServer(env = {}) {
  assert.ok(existsSync(binary), `${binary} is missing: run "cargo build" in ${repoRoot}`);
  assert.ok(
    existsSync(join(repoRoot, 'web', 'dist', 'browser', 'index.html')),
    'web/dist/browser/index.html is missing: run "npm run build" in web/',
  );
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
  const port = await freePort();
  const fullEnv = {
    ...process.env,
    DATABASE_URL: `sqlite://${dir}/p.db`,
    PORTCULLIS_BIND: `127.0.0.1:${port}`,
    PORTCULLIS_ARGON2: 'm=1024,t=1,p=1',
    PORTCULLIS_TOKEN_DELIVERY: defaultDelivery,
    RUST_LOG: 'warn',
    ...env,
  };
  const created = spawnSync(
    binary,
    ['user', 'create', '--username', ADMIN.username, '--email', ADMIN.email, '--role', 'admin', '--password-stdin'],
    { cwd: repoRoot, env: fullEnv, input: `${ADMIN.password}\n`, encoding: 'utf8' },
  );
  assert.equal(created.status, 0, `creating the admin failed: ${created.stderr}`);

  const child = spawn(binary, ['serve'], { cwd: repoRoot, env: fullEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  // localhost (not 127.0.0.1 in the URL) so that Chromium treats the origin as secure and
  // keeps the server's Secure cookies, as it does for a user at http://localhost:8080.
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`portcullis exited early:\n${log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`portcullis did not get ready:\n${log}`);
    await sleep(100);
  }
  return {
    url,
    env: fullEnv,
    log: () => log,
    /** Creates an account through the API (as a script would), not through the UI. */
    async signUp(username, password = PASSWORD) {
      const res = await fetch(`http://127.0.0.1:${port}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, email: `${username}@example.com`, password }),
      });
      assert.equal(res.status, 201, `signup of ${username}: ${await res.text()}`);
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((ok) => (child.exitCode !== null ? ok() : child.once('exit', ok)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBrowser() {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium`);
  // launch() gives every browser a fresh temporary user-data dir of its own.
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A new isolated browser profile (own cookies), optionally with a phone-sized viewport. */
export async function newPage(browser, { phone = false } = {}) {
  const context = await browser.newContext(
    phone
      ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
      : { viewport: { width: 1280, height: 860 } },
  );
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
      problems.push(`CSP: ${msg.text()}`);
    }
  });
  // The app asks for cookie-only delivery, so no API answer it receives carries a token,
  // whatever PORTCULLIS_TOKEN_DELIVERY the server runs with.
  page.on('response', async (response) => {
    if (!new URL(response.url()).pathname.startsWith('/api/')) return;
    const body = await response.text().catch(() => '');
    if (/"(accessToken|refreshToken)"\s*:\s*"/.test(body)) {
      problems.push(`token in the body of ${response.url()}`);
    }
  });
  page.problems = problems;
  return page;
}

export function sleep(ms) {
  return new Promise((ok) => setTimeout(ok, ms));
}

export async function screenshot(page, name) {
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * No token is visible to scripts: document.cookie holds no portcullis_ cookie and neither
 * storage holds anything that looks like a JWT. The page must not have logged a CSP refusal.
 */
export async function assertNoTokenVisible(page) {
  const seen = await page.evaluate(() => {
    const dump = (storage) => {
      const out = [];
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        out.push(`${key}=${storage.getItem(key)}`);
      }
      return out.join('\n');
    };
    return { cookie: document.cookie, local: dump(localStorage), session: dump(sessionStorage) };
  });
  assert.doesNotMatch(seen.cookie, /portcullis_/, 'a session cookie is readable by scripts');
  for (const where of ['local', 'session']) {
    assert.doesNotMatch(seen[where], /eyJ/, `${where}Storage holds something like a JWT`);
    assert.doesNotMatch(seen[where], /token/i, `${where}Storage holds a token`);
  }
  assert.deepEqual(page.problems, [], 'the page reported errors');
}

/** The session cookies are there, and HttpOnly: the browser has them, scripts do not. */
export async function assertHttpOnlySession(page) {
  const cookies = await page.context().cookies();
  const access = cookies.find((c) => c.name === 'portcullis_access');
  const refresh = cookies.find((c) => c.name === 'portcullis_refresh');
  assert.ok(access && refresh, `session cookies missing: ${cookies.map((c) => c.name).join(', ')}`);
  assert.equal(access.httpOnly, true);
  assert.equal(refresh.httpOnly, true);
}

/** Text of the first element matching `selector`, once it is visible. */
export async function textOf(page, selector, timeout = 10_000) {
  const locator = page.locator(selector).first();
  await locator.waitFor({ state: 'visible', timeout });
  return (await locator.textContent())?.trim() ?? '';
}

/** The navbar's board links, as their texts. */
export async function navbarBoards(page) {
  await page.locator('[data-testid="boards"]').waitFor({ state: 'attached' });
  return (await page.locator('[data-testid="boards"] a').allTextContents()).map((t) => t.trim());
}

export async function signIn(page, server, username, password = PASSWORD) {
  await page.goto(`${server.url}/login`);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/profile$/);
  await page.locator('[data-testid="username"]').waitFor();
}

/**
 * Waits until the first element matching `selector` has exactly `expected` as its text (the
 * app renders asynchronously, and a guard may still be asking the server); fails with the
 * text it last saw.
 */
export async function expectText(page, selector, expected, timeout = 10_000) {
  await waitForText(page, selector, { exact: expected }, timeout);
}

/** Like expectText, for a pattern. */
export async function expectMatch(page, selector, pattern, timeout = 10_000) {
  await waitForText(page, selector, { source: pattern.source, flags: pattern.flags }, timeout);
}

async function waitForText(page, selector, want, timeout) {
  try {
    await page.waitForFunction(
      ([sel, w]) => {
        const text = document.querySelector(sel)?.textContent?.trim();
        if (text === undefined) return false;
        return 'exact' in w ? text === w.exact : new RegExp(w.source, w.flags).test(text);
      },
      [selector, want],
      { timeout },
    );
  } catch (error) {
    const actual = await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => null);
    const wanted = 'exact' in want ? JSON.stringify(want.exact) : `/${want.source}/${want.flags}`;
    assert.fail(
      `${selector}: expected ${wanted}, last saw ${JSON.stringify(actual?.trim() ?? null)} (${String(error.message).split('\n')[0]})`,
    );
  }
}
