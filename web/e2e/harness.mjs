// Shared helpers for the end-to-end tests: the real `portcullis` binary on a temporary
// SQLite database, Debian's Chromium driven by playwright-core and, for the mails, the
// repository's SMTP test server (tests/mail/catcher.py).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const binary = process.env.PORTCULLIS_BIN ?? join(repoRoot, 'target', 'debug', 'portcullis');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The Python of tests/mail/install's virtual environment, which has aiosmtpd. */
export const mailPython = process.env.MAIL_PYTHON ?? join(repoRoot, 'target', 'mail-venv', 'bin', 'python');
export const screenshotDir = resolve(process.env.E2E_SCREENSHOTS ?? join(here, 'screenshots'));
/** Token delivery for servers whose test does not pick one: `both` (the default) or `cookie`. */
export const defaultDelivery = process.env.E2E_TOKEN_DELIVERY ?? 'both';

export const PASSWORD = 'Tr0ub4dor&3-horse-staple';
export const ADMIN = { username: 'admin', email: 'admin@example.com', password: 'Gatekeeper-Secret-passw0rd!' };

mkdirSync(screenshotDir, { recursive: true });
console.log(`screenshots: ${screenshotDir} (server token delivery by default: ${defaultDelivery})`);

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
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
 * `env` adds or overrides settings (e.g. PORTCULLIS_ACCESS_TTL). PORTCULLIS_PUBLIC_URL is
 * the server's own URL, so the links in its mails lead back to it. `host` is the host of that
 * URL: `localhost` unless said (`127.0.0.1` for a second server, another site for the browser,
 * whose cookies are then its own).
 */
export async function startServer(env = {}, { host = 'localhost' } = {}) {
  assert.ok(existsSync(binary), `${binary} is missing: run "cargo build" in ${repoRoot}`);
  assert.ok(
    existsSync(join(repoRoot, 'web', 'dist', 'browser', 'index.html')),
    'web/dist/browser/index.html is missing: run "npm run build" in web/',
  );
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
  const port = await freePort();
  // localhost by default, so that Chromium treats the origin as secure and keeps the server's
  // Secure cookies, as it does for a user at http://localhost:8080 (a second server on
  // 127.0.0.1 is another site, whose cookies are its own).
  const url = `http://${host}:${port}`;
  const fullEnv = {
    ...process.env,
    DATABASE_URL: `sqlite://${dir}/p.db`,
    PORTCULLIS_BIND: `127.0.0.1:${port}`,
    PORTCULLIS_ARGON2: 'm=1024,t=1,p=1',
    PORTCULLIS_TOKEN_DELIVERY: defaultDelivery,
    PORTCULLIS_PUBLIC_URL: url,
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

/**
 * Why the mail tests cannot run here (the SMTP test server is not installed), or null.
 * With PORTCULLIS_REQUIRE_BROWSER=1 that is a failure, not a skip: see `mailTestsSkip`.
 */
export function mailCatcherMissing() {
  return existsSync(mailPython)
    ? null
    : `the tests' SMTP server is not installed (${mailPython} is missing): run tests/mail/install in ${repoRoot}`;
}

/**
 * For `describe(name, { skip })` of tests that need mail: false when they can run; the reason
 * (said loudly) when they cannot; and when PORTCULLIS_REQUIRE_BROWSER=1 requires every browser
 * test, false too, so that `startMailCatcher` fails them with the reason.
 */
export function mailTestsSkip() {
  const missing = mailCatcherMissing();
  if (!missing || process.env.PORTCULLIS_REQUIRE_BROWSER === '1') return false;
  console.warn(`\n## SKIPPED: the browser tests that read mail did not run:\n## ${missing}\n`);
  return missing;
}

/**
 * Starts tests/mail/catcher.py on a free port (it keeps every message it accepts as
 * DIR/<n>.json) and waits until the port accepts connections. `smtpUrl` is for
 * PORTCULLIS_SMTP_URL; `mails()` reads what it caught, `waitForMail()` waits for one.
 */
export async function startMailCatcher() {
  const missing = mailCatcherMissing();
  assert.ok(!missing, `${missing}${process.env.PORTCULLIS_REQUIRE_BROWSER === '1' ? ' (PORTCULLIS_REQUIRE_BROWSER=1: the mail tests must run)' : ''}`);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-mail-'));
  const port = await freePort();
  const child = spawn(mailPython, [join(repoRoot, 'tests', 'mail', 'catcher.py'), String(port), dir], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`the SMTP catcher exited early:\n${log}`);
    if (Date.now() > deadline) throw new Error(`the SMTP catcher did not listen on ${port}:\n${log}`);
    await sleep(50);
  }

  const catcher = {
    port,
    smtpUrl: `smtp://127.0.0.1:${port}`,
    /** Every mail caught so far, in the order caught, parsed (see `parseMail`). */
    mails() {
      return readdirSync(dir)
        .filter((name) => /^\d+\.json$/.test(name))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
        .map((name) => {
          const { from, to, data } = JSON.parse(readFileSync(join(dir, name), 'utf8'));
          return { from, to, ...parseMail(data) };
        });
    },
    /**
     * Waits for the `count`-th mail to `to` (any case) whose subject is `subject`; returns
     * it, or fails with what was caught.
     */
    async waitForMail({ to, subject, count = 1, timeout = 20_000 }) {
      const end = Date.now() + timeout;
      for (;;) {
        const all = catcher.mails();
        const found = all.filter(
          (m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase()) && (subject === undefined || m.subject === subject),
        );
        if (found.length >= count) return found[count - 1];
        if (Date.now() > end) {
          assert.fail(
            `no mail #${count} to ${to} with subject ${JSON.stringify(subject)} within ${timeout} ms; caught: ${JSON.stringify(all.map((m) => [m.to, m.subject]))}`,
          );
        }
        await sleep(100);
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((ok) => (child.exitCode !== null ? ok() : child.once('exit', ok)));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return catcher;
}

function accepts(port) {
  return new Promise((ok) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

/**
 * An RFC 5322 message as `{ subject, headers, text, html }`: `text` and `html` are the first
 * text/plain and text/html parts (of a multipart message, at any depth), decoded from
 * quoted-printable or base64. Just enough MIME for the server's own mails.
 */
export function parseMail(raw) {
  const { headers, body } = splitEntity(raw);
  const parts = leafParts(headers, body);
  const part = (type) => parts.find((p) => (p.headers['content-type'] ?? 'text/plain').toLowerCase().startsWith(type));
  return {
    headers,
    subject: decodeWords(headers.subject ?? ''),
    text: part('text/plain')?.text ?? '',
    html: part('text/html')?.text ?? '',
    raw,
  };
}

function splitEntity(entity) {
  const normal = entity.replace(/\r\n/g, '\n');
  const end = normal.indexOf('\n\n');
  const head = end === -1 ? normal : normal.slice(0, end);
  const body = end === -1 ? '' : normal.slice(end + 2);
  const headers = {};
  // Folded header lines go on with whitespace.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function leafParts(headers, body) {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const sections = body.split(`--${boundary}`).slice(1);
    const out = [];
    for (const section of sections) {
      if (section.startsWith('--')) break; // the closing delimiter
      const inner = splitEntity(section.replace(/^[ \t]*\n/, ''));
      out.push(...leafParts(inner.headers, inner.body));
    }
    return out;
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : body;
  return [{ headers, text: text.replace(/\n$/, '') }];
}

/** Quoted-printable: soft line breaks (`=` at a line's end) go, `=XX` is a byte (UTF-8). */
export function decodeQuotedPrintable(body) {
  const joined = body.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (`=?utf-8?q?…?=`, `=?utf-8?b?…?=`) of a header, decoded. */
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=/g, (_, _charset, kind, text) =>
      kind.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

/**
 * The first link of a mail's text part to `<page>?token=`: `{ url, token }`; fails if there
 * is none. `page` is a path such as `reset-password`.
 */
export function linkIn(mail, page) {
  const match = new RegExp(`(https?://[^\\s"<>]*/${page}\\?token=)([A-Za-z0-9_-]+)`).exec(mail.text);
  assert.ok(match, `no ${page}?token= link in the mail's text part:\n${mail.text}`);
  return { url: match[1] + match[2], token: match[2] };
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

/**
 * A new isolated browser profile (own cookies), optionally with a phone-sized viewport and a
 * browser language (`navigator.languages` and `Accept-Language`; English unless given).
 */
export async function newPage(browser, { phone = false, locale = 'en-US' } = {}) {
  // Reduced motion turns Bootstrap's transitions off, so a screenshot never catches a link
  // halfway between two states.
  const context = await browser.newContext({
    reducedMotion: 'reduce',
    locale,
    ...(phone
      ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
      : { viewport: { width: 1280, height: 860 } }),
  });
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

/** A page at a size's viewport: a desktop's 1280x800, or the phone's 390x844 (`newPage`). */
export async function pageAt(browser, size, locale) {
  const page = await newPage(browser, { phone: size.phone, locale });
  if (!size.phone) await page.setViewportSize({ width: 1280, height: 800 });
  return page;
}

/** The page does not scroll sideways (everything fits the viewport's width). */
export async function assertNoSidewaysScroll(page, what) {
  const { scroll, view } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    view: window.innerWidth,
  }));
  assert.ok(scroll <= view, `${what} scrolls sideways (${scroll}px in ${view}px)`);
}

/** A PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
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

export async function signIn(page, server, username, password = PASSWORD) {
  await page.goto(`${server.url}/login`);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('button[type="submit"]');
  // Where a sign-in lands: the account console's profile page (once `/profile`).
  await page.waitForURL(/\/account$/);
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

/** RFC 4648 base32 (no padding needed, case and spaces ignored) to bytes. */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=-]+/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    assert.ok(index >= 0, `not base32: ${JSON.stringify(char)} in ${JSON.stringify(text)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 time step (30 s) of `time` (ms since the epoch). */
export function totpStep(time = Date.now()) {
  return Math.floor(time / 30_000);
}

/** The TOTP code (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps) of a base32 secret at `time`. */
export function totp(secretBase32, time = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(totpStep(time)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

/**
 * Waits for the first TOTP step after `step` (a code must differ from the last one the
 * server accepted, which refuses it again in its window) and returns the time to use.
 */
export async function afterTotpStep(step) {
  for (;;) {
    const now = Date.now();
    if (totpStep(now) > step) return now;
    await sleep((step + 1) * 30_000 - now + 50);
  }
}

/** A server's API from outside the browser (127.0.0.1 for a server at localhost). */
export const apiUrl = (server, path) => `${server.url.replace('localhost', '127.0.0.1')}${path}`;

/** Runs the binary's command line against `server`'s database; its standard output. */
export function cli(server, args, input) {
  const run = spawnSync(binary, args, { cwd: repoRoot, env: server.env, input, encoding: 'utf8' });
  assert.equal(run.status, 0, `portcullis ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** The admin's session cookies at `server`, for its admin API. */
export async function adminCookies(server) {
  const res = await fetch(apiUrl(server, '/api/auth/signin'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
  });
  assert.equal(res.status, 200, `admin signin: ${await res.text()}`);
  return res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

/** A URL predicate: the browser is on `server`'s `path` (not another site's page of that name). */
export const at = (server, path) => (url) => url.origin === server.url && url.pathname === path;

/** Opens the navbar's user menu (signed in), if it is not open yet. */
export async function openUserMenu(page) {
  const button = page.locator('[data-testid="user-menu-button"]');
  await button.waitFor();
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await page.locator('#user-menu.show').waitFor();
}

/** The user menu's items, as their texts (it is opened first): `['Account', 'Demo', 'Sign out']`. */
export async function userMenuItems(page) {
  await openUserMenu(page);
  return (await page.locator('#user-menu .dropdown-item').allTextContents()).map((t) => t.trim());
}

/** Clicks the user menu's Sign out (the caller waits for what follows). */
export async function signOutFromMenu(page) {
  await openUserMenu(page);
  await page.click('[data-testid="menu-signout"]');
}

/** Opens the admin console from the user menu (it starts at /admin/users). */
export async function openAdminConsole(page) {
  await openUserMenu(page);
  await page.click('[data-testid="menu-admin"]');
  await page.waitForURL(/\/admin\/users$/);
}

/** The demo's board tabs (on a /demo page), as their texts: `['Public', 'User']`. */
export async function demoTabs(page) {
  await page.locator('[data-testid="demo-tabs"]').waitFor();
  return (await page.locator('[data-testid="demo-tabs"] a').allTextContents()).map((t) => t.trim());
}

/**
 * Holds the page's conditional (autofill) passkey requests instead of handing them to the
 * browser, and records them (see `conditionalPasskeyRequests`): the virtual authenticator
 * would otherwise answer one at once, before a test could press a button. Modal requests
 * go to the browser as usual. Call before the page's first navigation.
 */
export async function holdConditionalPasskeyRequests(page) {
  await page.addInitScript(() => {
    const log = [];
    Object.defineProperty(window, '__conditionalPasskeyRequests', { value: log });
    const original = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options) => {
      if (options?.mediation !== 'conditional') return original(options);
      const entry = { aborted: false, hasChallenge: Boolean(options.publicKey?.challenge) };
      log.push(entry);
      return new Promise((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => {
          entry.aborted = true;
          reject(new DOMException('The operation was aborted.', 'AbortError'));
        });
      });
    };
  });
}

/** The conditional passkey requests the page made since it loaded: `[{ aborted, hasChallenge }]`. */
export async function conditionalPasskeyRequests(page) {
  return page.evaluate(() => window.__conditionalPasskeyRequests.map((r) => ({ ...r })));
}

/** axe-core's script, read once (injected by `axeViolations`). */
let axeSource;

/**
 * axe-core's violations on the page as it is now, of the given impacts: `[{ id, impact, help,
 * nodes: [{ target, summary }] }]`, so that a failing assertion says what is wrong and where.
 * The script goes in through `page.evaluate` (CDP, the page's main world), which the app's
 * Content-Security-Policy does not govern; a `<script>` tag with the source inline would be
 * refused by it.
 */
export async function axeViolations(page, { impacts = ['serious', 'critical'] } = {}) {
  axeSource ??= readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => impacts.includes(v.impact));
}

/**
 * Gives the page a user-verifying platform authenticator that holds discoverable
 * credentials (Chromium's virtual authenticator, through CDP). `presence: true` has it
 * answer by itself, as autofill tests need. Returns the CDP session and its id, to read
 * its credentials or remove it.
 */
export async function addVirtualAuthenticator(page, { presence = false } = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      ...(presence ? { automaticPresenceSimulation: true } : {}),
    },
  });
  return { cdp, authenticatorId };
}
