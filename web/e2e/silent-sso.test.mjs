// Silent single sign-on from another site: a relying party at http://127.0.0.1:RP_PORT (a
// different site from Portcullis at http://localhost:PORT) signs the user in once through
// the login and consent pages; later a link on one of its pages to the authorization
// endpoint with prompt=none (a top-level, cross-site navigation, which brings none of the
// SameSite=Strict session cookies but does bring the SameSite=Lax `portcullis_sso`) comes
// back with a code at once, never showing a page. Without a consent it comes back with
// consent_required (unless the client is first-party); after signing out at Portcullis,
// and in a browser that never signed in, with login_required.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  assertNoTokenVisible,
  binary,
  expectText,
  newPage,
  repoRoot,
  screenshot,
  signIn,
  signOutFromMenu,
  startBrowser,
  startServer,
} from './harness.mjs';

/**
 * The application: a server on its own site (127.0.0.1, where Portcullis is at localhost)
 * that records what reaches /cb and serves the pages `page` gives it.
 */
async function startRelyingParty() {
  const received = [];
  const waiting = [];
  const pages = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, `http://${req.headers.host}`);
    if (url.pathname === '/cb') {
      received.push(url);
      for (const wake of waiting.splice(0)) wake();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Relying party</title><p id="rp">Back at the application.</p>');
    } else if (pages.has(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(pages.get(url.pathname));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    redirectUri: `http://127.0.0.1:${port}/cb`,
    received,
    /** Serves `html` at `path`; its full URL. */
    page(path, html) {
      pages.set(path, `<!doctype html><meta charset="utf-8"><title>Relying party</title>${html}`);
      return `http://127.0.0.1:${port}${path}`;
    },
    /** The `count`-th callback the application received. */
    async callback(count, timeout = 10_000) {
      const end = Date.now() + timeout;
      while (received.length < count) {
        if (Date.now() > end) assert.fail(`the application received ${received.length} callbacks, not ${count}`);
        await new Promise((wake) => {
          waiting.push(wake);
          setTimeout(wake, 200);
        });
      }
      return received[count - 1];
    },
    stop: () => new Promise((ok) => server.close(ok)),
  };
}

/** `portcullis client create` on the server's database: `{ id, secret }`. */
function createClient(server, name, ...args) {
  const run = spawnSync(binary, ['client', 'create', '--name', name, ...args], {
    cwd: repoRoot,
    env: server.env,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `client create ${name}: ${run.stderr}`);
  const id = /^client_id:\s*(\S+)/m.exec(run.stdout)?.[1];
  const secret = /^client_secret:\s*(\S+)/m.exec(run.stdout)?.[1];
  assert.ok(id && secret, `client create's output: ${run.stdout}`);
  return { id, secret };
}

/** An authorization request of the application's: its URL and what the callback must match. */
function request(server, client, rp, extra = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: rp.redirectUri,
    scope: 'openid profile',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${server.url}/api/oauth/authorize?${params}`, verifier, state, nonce };
}

/** The application redeems a code: the token endpoint's status and answer. */
async function redeem(server, client, rp, code, verifier) {
  const res = await fetch(`${server.url.replace('localhost', '127.0.0.1')}/api/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: verifier }),
  });
  return { status: res.status, body: await res.json() };
}

/** Every cookie the browser keeps for Portcullis (whatever its path). */
async function portcullisCookies(page) {
  return (await page.context().cookies()).filter((c) => c.domain === 'localhost');
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

/**
 * The application's page with a sign-in link to `url`, followed: a top-level navigation from
 * the application's site to Portcullis's. Returns the callback the application received,
 * the cookies the browser sent to the authorization endpoint, and the Portcullis pages the
 * browser showed on the way (none, for prompt=none).
 */
async function follow(page, rp, url) {
  const sent = [];
  const shown = [];
  const onRequest = (req) => {
    if (req.url().startsWith(url.slice(0, url.indexOf('?')))) {
      sent.push(req.allHeaders().then((h) => (h.cookie ?? '').split(/;\s*/).filter(Boolean).map((c) => c.split('=')[0])));
    }
  };
  const serverOrigin = new URL(url).origin;
  const onNavigated = (frame) => {
    if (frame === page.mainFrame() && frame.url().startsWith(serverOrigin)) shown.push(frame.url());
  };
  page.on('request', onRequest);
  page.on('framenavigated', onNavigated);
  try {
    const count = rp.received.length;
    await page.goto(rp.page('/app', `<a id="sign-in" href="${url.replace(/&/g, '&amp;')}">Sign in with Portcullis</a>`));
    await page.click('#sign-in');
    const callback = await rp.callback(count + 1);
    // The application hears the request before the browser has arrived: let the navigation
    // end before anything else goes on in this page.
    await page.waitForURL((u) => u.href.startsWith(rp.redirectUri));
    assert.equal(sent.length, 1, 'one request to the authorization endpoint');
    return { callback, sent: (await Promise.all(sent)).flat(), shown };
  } finally {
    page.off('request', onRequest);
    page.off('framenavigated', onNavigated);
  }
}

/** The login page's form, filled in and sent. */
async function logInOnLoginPage(page, username, password = PASSWORD) {
  await page.locator('#login-username').waitFor();
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('button[type="submit"]');
}

describe('silent single sign-on from another site (prompt=none)', () => {
  let server;
  let browser;
  let rp;
  let client;
  let firstParty;
  /** sam's browser: signed in once through the consent page. */
  let sam;
  /** What sam's interactive sign-in gave: the ID token's claims. */
  let samClaims;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    rp = await startRelyingParty();
    client = createClient(server, 'SSO Notes', '--redirect-uri', rp.redirectUri);
    firstParty = createClient(server, 'SSO Intranet', '--redirect-uri', rp.redirectUri, '--first-party');
    await server.signUp('sam');
    await server.signUp('nina');
  });
  after(async () => {
    await browser?.close();
    await rp?.stop();
    await server?.stop();
  });

  test('sign in once from the application\'s site: login page, consent, a code; the sso cookie is HttpOnly, Lax, for the authorization endpoint only', async () => {
    sam = await newPage(browser);
    const req = request(server, client, rp);
    const count = rp.received.length;
    await sam.goto(rp.page('/start', `<a id="sign-in" href="${req.url.replace(/&/g, '&amp;')}">Sign in with Portcullis</a>`));
    await sam.click('#sign-in');
    await sam.waitForURL(/\/login\?/);
    await logInOnLoginPage(sam, 'sam');
    await sam.waitForURL(/\/oauth\/consent\?request=/);
    await expectText(sam, '[data-testid="consent-title"]', 'SSO Notes wants to use your Portcullis account');

    const cookies = await portcullisCookies(sam);
    const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
    const sso = byName.portcullis_sso;
    assert.ok(sso, `the sign-in set portcullis_sso: ${cookies.map((c) => c.name).join(', ')}`);
    assert.equal(sso.httpOnly, true, 'portcullis_sso is HttpOnly');
    assert.equal(sso.sameSite, 'Lax', 'portcullis_sso is SameSite=Lax');
    assert.equal(sso.path, '/api/oauth/authorize', 'portcullis_sso is sent to the authorization endpoint only');
    assert.equal(sso.domain, 'localhost');
    assert.ok(sso.expires > Date.now() / 1000 + 3600, 'portcullis_sso lasts (as the refresh cookie does)');
    for (const name of ['portcullis_access', 'portcullis_refresh']) {
      assert.ok(byName[name], `${name} is set`);
      assert.equal(byName[name].httpOnly, true, `${name} is HttpOnly`);
      assert.equal(byName[name].sameSite, 'Strict', `${name} stays SameSite=Strict`);
    }
    await assertNoTokenVisible(sam);

    await sam.click('[data-testid="consent-allow"]');
    const callback = await rp.callback(count + 1);
    await sam.waitForURL((u) => u.href.startsWith(rp.redirectUri));
    assert.equal(callback.searchParams.get('state'), req.state);
    const { status, body } = await redeem(server, client, rp, callback.searchParams.get('code'), req.verifier);
    assert.equal(status, 200, JSON.stringify(body));
    samClaims = claimsOf(body.id_token);
    assert.equal(samClaims.preferred_username, 'sam');
    assert.equal(samClaims.nonce, req.nonce);
  });

  test('later, a prompt=none link on the application\'s page comes back with a code at once, from the sso cookie alone', async () => {
    assert.ok(samClaims, 'sam signed in in the test before');
    // The page went elsewhere since (the application's callback, then its own page).
    assert.ok(sam.url().startsWith(rp.origin), sam.url());
    const req = request(server, client, rp, { prompt: 'none' });
    const { callback, sent, shown } = await follow(sam, rp, req.url);

    assert.equal(callback.searchParams.get('error'), null, `no error: ${callback}`);
    const code = callback.searchParams.get('code');
    assert.ok(code, `a code: ${callback}`);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.equal(callback.searchParams.get('iss'), server.url);
    assert.deepEqual(shown, [], 'no Portcullis page was shown');
    // The cross-site navigation brought the Lax cookie and none of the Strict ones.
    assert.ok(sent.includes('portcullis_sso'), `the browser sent portcullis_sso: ${sent.join(', ')}`);
    assert.ok(!sent.includes('portcullis_access') && !sent.includes('portcullis_refresh'), `no Strict cookie crossed sites: ${sent.join(', ')}`);

    const { status, body } = await redeem(server, client, rp, code, req.verifier);
    assert.equal(status, 200, `the exchange: ${JSON.stringify(body)}`);
    assert.ok(body.id_token && body.access_token, 'an ID token and an access token');
    const claims = claimsOf(body.id_token);
    assert.equal(claims.sub, samClaims.sub);
    assert.equal(claims.preferred_username, 'sam');
    assert.equal(claims.nonce, req.nonce);
    assert.equal(claims.auth_time, samClaims.auth_time, 'the same sign-in: no new one was made');
    assert.equal(claims.sid, samClaims.sid, 'the same browser session');
    const info = await fetch(`${server.url.replace('localhost', '127.0.0.1')}/api/oauth/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    assert.equal(info.status, 200);
    assert.equal((await info.json()).sub, samClaims.sub);
    await screenshot(sam, 'silent-sso-callback');

    // Back at Portcullis, no script sees a token.
    await sam.goto(`${server.url}/profile`);
    await sam.locator('[data-testid="username"]').waitFor();
    await assertNoTokenVisible(sam);
  });

  test('a user who never consented: consent_required at the redirect URI; a first-party client: a code', async () => {
    const nina = await newPage(browser);
    await signIn(nina, server, 'nina');
    const req = request(server, client, rp, { prompt: 'none' });
    const { callback, shown } = await follow(nina, rp, req.url);
    assert.equal(callback.searchParams.get('error'), 'consent_required', `${callback}`);
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.equal(callback.searchParams.get('iss'), server.url);
    assert.deepEqual(shown, [], 'no Portcullis page was shown');

    // A first-party client asks nobody: the same browser gets a code.
    const trusted = request(server, firstParty, rp, { prompt: 'none' });
    const back = await follow(nina, rp, trusted.url);
    assert.equal(back.callback.searchParams.get('error'), null, `${back.callback}`);
    assert.ok(back.callback.searchParams.get('code'), `a code: ${back.callback}`);
    assert.deepEqual(back.shown, []);
    const { status, body } = await redeem(server, firstParty, rp, back.callback.searchParams.get('code'), trusted.verifier);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(claimsOf(body.id_token).preferred_username, 'nina');
    await nina.context().close();
  });

  test('after signing out at Portcullis: login_required, even with the old sso cookie put back', async () => {
    const [oldSso] = (await portcullisCookies(sam)).filter((c) => c.name === 'portcullis_sso');
    assert.ok(oldSso, 'sam has the sso cookie');
    await sam.goto(`${server.url}/account`);
    await signOutFromMenu(sam);
    await sam.waitForURL(/\/login\?reason=signedout/);
    const left = (await portcullisCookies(sam)).map((c) => c.name);
    assert.ok(!left.some((n) => n.startsWith('portcullis_')), `sign-out cleared the cookies: ${left.join(', ')}`);

    const req = request(server, client, rp, { prompt: 'none' });
    const { callback, shown } = await follow(sam, rp, req.url);
    assert.equal(callback.searchParams.get('error'), 'login_required', `${callback}`);
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.deepEqual(shown, [], 'no Portcullis page was shown');

    // The session ended on the server: the cookie that named it opens nothing any more.
    await sam.context().addCookies([oldSso]);
    const again = request(server, client, rp, { prompt: 'none' });
    const back = await follow(sam, rp, again.url);
    assert.ok(back.sent.includes('portcullis_sso'), `the old cookie was sent: ${back.sent.join(', ')}`);
    assert.equal(back.callback.searchParams.get('error'), 'login_required', `${back.callback}`);
    assert.equal(back.callback.searchParams.get('code'), null);
    await sam.context().close();
  });

  test('a fresh browser that never signed in: login_required', async () => {
    const page = await newPage(browser);
    const req = request(server, client, rp, { prompt: 'none' });
    const { callback, sent, shown } = await follow(page, rp, req.url);
    assert.deepEqual(sent, [], 'no cookie at all');
    assert.equal(callback.searchParams.get('error'), 'login_required', `${callback}`);
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.deepEqual(shown, []);
    await page.context().close();
  });
});
