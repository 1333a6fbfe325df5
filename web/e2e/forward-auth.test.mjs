// Forward authentication behind nginx, in a real browser: deploy/nginx/forward-auth.conf
// (Debian's nginx, on free ports) in front of Portcullis with a 2-second access lifetime,
// a static app at /app/ and the file's stand-in backend at /backend/ (it echoes the
// X-Portcullis-* headers it receives). Signed out, the app leads to the login page and back;
// then, again and again past two access lifetimes, the apps load with no sign-in page
// (nginx sends the browser to /api/auth/resume, which refreshes the cookie session and sends
// it straight back), in the same session, with no false `refresh_reuse` in the audit log;
// the backend sees the account whatever identity headers the browser sends; a link from
// another site (no SameSite=Strict cookies on that way) reaches the app with no sign-in.
// Needs /usr/sbin/nginx (apt-get install -y nginx-light): skipped loudly without it, a
// failure when PORTCULLIS_REQUIRE_BROWSER=1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ADMIN, PASSWORD, freePort, newPage, repoRoot, screenshot, signIn, sleep, startBrowser, startServer } from './harness.mjs';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
const TEMPLATE = join(repoRoot, 'deploy', 'nginx', 'forward-auth.conf');
/** The access lifetime, in seconds, and how long each wait lasts: past two of them. */
const ACCESS_TTL = 2;
const PAST_TWO_LIFETIMES = (2 * ACCESS_TTL + 1) * 1000;
const ROUNDS = 4;
const APP_HTML = '<!doctype html><title>The app</title><p id="app">the app</p>\n';
/** What a script sends to pass as someone else; nginx must replace every one. */
const FORGED = { 'X-Portcullis-User': 'admin', 'X-Portcullis-User-Id': '1', 'X-Portcullis-Roles': 'user,admin' };

function nginxSkip() {
  if (existsSync(NGINX) || process.env.PORTCULLIS_REQUIRE_BROWSER === '1') return false;
  const why = `${NGINX} is missing: apt-get install -y nginx-light`;
  console.warn(`\n## SKIPPED: the browser test of forward authentication behind nginx did not run:\n## ${why}\n`);
  return why;
}

/**
 * nginx with deploy/nginx/forward-auth.conf, its four placeholders filled in (as
 * `envsubst '$LISTEN_PORT $PORTCULLIS_PORT $APP_ROOT $BACKEND_PORT'` would), in a
 * temporary prefix of its own; resolves once it proxies Portcullis' /health/ready.
 */
async function startNginx(portcullisPort, listen) {
  assert.ok(existsSync(NGINX), `${NGINX} is missing: apt-get install -y nginx-light (PORTCULLIS_REQUIRE_BROWSER=1: this test must run)`);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-nginx-'));
  // nginx's workers (an unprivileged user when it starts as root) read the app's files.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'index.html'), APP_HTML);
  const backend = await freePort();
  const values = { LISTEN_PORT: listen, PORTCULLIS_PORT: portcullisPort, APP_ROOT: join(dir, 'app'), BACKEND_PORT: backend };
  let conf = readFileSync(TEMPLATE, 'utf8');
  for (const [name, value] of Object.entries(values)) conf = conf.replaceAll(`\${${name}}`, String(value));
  assert.doesNotMatch(conf, /\$\{/, 'a placeholder of the template was left unfilled');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  // Its own process group, so that its workers go with it.
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  const errors = () => `${log}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      const why = errors();
      await stop();
      throw new Error(`nginx exited early:\n${why}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${listen}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const why = errors();
      await stop();
      throw new Error(`nginx did not get ready:\n${why}`);
    }
    await sleep(50);
  }
  return { stop, errors };
}

/** The addresses (path and query) a navigation went through, its redirects included. */
function hops(response) {
  const out = [];
  for (let request = response.request(); request; request = request.redirectedFrom()) {
    const url = new URL(request.url());
    out.unshift(url.pathname + url.search);
  }
  return out;
}

/** A same-origin fetch by the page, with its cookies: `{ status, body }`. */
async function fetchJson(page, path) {
  return page.evaluate(async (p) => {
    const res = await fetch(p);
    return { status: res.status, body: await res.json().catch(() => null) };
  }, path);
}

async function accessCookie(page) {
  return (await page.context().cookies()).find((c) => c.name === 'portcullis_access');
}

describe(`forward authentication behind nginx (${ACCESS_TTL} s access lifetime)`, { skip: nginxSkip() }, () => {
  let server;
  let nginx;
  let browser;
  let front;
  before(async () => {
    // Portcullis' public URL is nginx's address, where the browser is: localhost, which
    // Chromium treats as secure, so it keeps the Secure cookies. nginx's port is chosen
    // first, Portcullis (on a port of its own) started, then nginx in front of it.
    const listen = await freePort();
    front = `http://localhost:${listen}`;
    server = await startServer({
      PORTCULLIS_ACCESS_TTL: `${ACCESS_TTL}s`,
      PORTCULLIS_PUBLIC_URL: front,
      PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1',
    });
    nginx = await startNginx(new URL(server.url).port, listen);
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await nginx?.stop();
    await server?.stop();
  });

  test('signed out to login and back; then, past two access lifetimes again and again, straight in, one session, no alarm', async () => {
    await server.signUp('alice');
    const page = await newPage(browser);
    // Every request of this browser carries forged identity headers: they must change nothing.
    await page.context().setExtraHTTPHeaders(FORGED);
    const navigations = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(new URL(frame.url()).pathname);
    });

    // Signed out: the app leads to Portcullis' login page, by way of resume.
    let response = await page.goto(`${front}/app/`);
    assert.deepEqual(hops(response), ['/app/', '/api/auth/resume?returnUrl=/app/', '/login?returnUrl=%2Fapp%2F']);
    await page.fill('#login-username', 'alice');
    await page.fill('#login-password', PASSWORD);
    await page.click('button[type="submit"]');
    // Signed in: back to the app, the page first asked for.
    await page.waitForURL(`${front}/app/`);
    assert.equal((await page.locator('#app').textContent()).trim(), 'the app');
    await screenshot(page, 'forward-auth-app');

    const me = await fetchJson(page, '/api/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'alice');
    const sessions = await fetchJson(page, '/api/auth/sessions');
    assert.equal(sessions.status, 200);
    assert.equal(sessions.body.items.length, 1);
    const sessionId = sessions.body.items[0].id;
    const signedInAt = navigations.length;

    const echo = { user: 'alice', userId: String(me.body.id), roles: 'user' };
    /** What each app shows: the static page, or the backend's echo of alice. */
    const shows = {
      '/app/': async () => assert.equal((await page.locator('#app').textContent({ timeout: 5_000 })).trim(), 'the app'),
      '/backend/': async (res) => assert.deepEqual(await res.json(), echo, 'the backend sees alice, not the forged headers'),
    };
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternately the static and the proxied app comes first, after the wait.
      const [first, second] = round % 2 ? ['/app/', '/backend/'] : ['/backend/', '/app/'];
      await sleep(PAST_TWO_LIFETIMES);
      assert.equal(await accessCookie(page), undefined, `round ${round}: the access cookie has lapsed in the browser`);

      const path = first === '/app/' ? '/app/' : `/backend/round-${round}?x=${round}`;
      response = await page.goto(`${front}${path}`);
      assert.deepEqual(
        hops(response),
        [path, `/api/auth/resume?returnUrl=${path}`, path],
        `round ${round}: refused by forward, refreshed by resume, and straight back`,
      );
      assert.equal(response.status(), 200);
      await shows[first](response);
      assert.ok(await accessCookie(page), `round ${round}: resume set a fresh access cookie`);
      response = await page.goto(`${front}${second}`);
      assert.deepEqual(hops(response), [second], `round ${round}: the fresh cookie lets the browser in at once`);
      assert.equal(response.status(), 200);
      await shows[second](response);

      const now = await fetchJson(page, '/api/auth/sessions');
      assert.equal(now.status, 200, `round ${round}: still signed in`);
      assert.deepEqual(
        now.body.items.map((s) => [s.id, s.current]),
        [[sessionId, true]],
        `round ${round}: the same one session`,
      );
    }
    assert.ok(
      !navigations.slice(signedInAt).includes('/login'),
      `no sign-in page after signing in: ${navigations.slice(signedInAt).join(' ')}`,
    );

    // A link from another site: the browser sends no SameSite=Strict cookie on the way, so
    // nginx and resume see nobody and send it to the login page, where the web app finds the
    // session and sends it on to the app, with no sign-in: with the access cookie alive, and
    // once it lapsed.
    await page.route('http://elsewhere.test/', (route) =>
      route.fulfill({ contentType: 'text/html', body: `<a id="to-app" href="${front}/app/">the app</a>` }),
    );
    for (const when of ['alive', 'lapsed']) {
      if (when === 'lapsed') await sleep(PAST_TWO_LIFETIMES);
      await page.goto('http://elsewhere.test/');
      await page.click('#to-app');
      await page.waitForURL(`${front}/app/`);
      await shows['/app/']();
      const now = await fetchJson(page, '/api/auth/sessions');
      assert.deepEqual(
        now.body.items.map((s) => [s.id, s.current]),
        [[sessionId, true]],
        `from another site, access cookie ${when}: the same one session`,
      );
    }
    assert.deepEqual(page.problems, [], 'the page reported errors');

    // The audit log: alice signed in once, was refreshed (by resume) every round, and was
    // never signed out; no refresh token was reused.
    const admin = await newPage(browser);
    await signIn(admin, { url: front }, ADMIN.username, ADMIN.password);
    const audit = await fetchJson(admin, '/api/admin/audit?limit=100');
    assert.equal(audit.status, 200);
    const events = audit.body.items;
    const summary = JSON.stringify(events.map((e) => [e.event, e.outcome, e.subjectId]));
    assert.ok(events.length < 100, 'the whole log fits one page');
    assert.equal(events.filter((e) => e.event === 'refresh_reuse').length, 0, `a refresh_reuse: ${summary}`);
    const alices = events.filter((e) => e.subjectId === me.body.id);
    assert.deepEqual(
      alices.filter((e) => e.event.startsWith('signin')).map((e) => [e.event, e.outcome]),
      [['signin', 'ok']],
      `one sign-in: ${summary}`,
    );
    assert.deepEqual(
      alices.filter((e) => ['signout', 'signout_all', 'session_ended'].includes(e.event)),
      [],
      `never signed out: ${summary}`,
    );
    assert.ok(
      alices.filter((e) => e.event === 'refresh' && e.outcome === 'ok').length >= ROUNDS,
      `a refresh every round: ${summary}`,
    );
    assert.deepEqual(
      events.filter((e) => e.event === 'refresh' && e.outcome !== 'ok'),
      [],
      `no failed refresh: ${summary}`,
    );
    assert.equal(nginx.errors().match(/\[(emerg|alert|crit)\]/g), null, nginx.errors());
  });
});
