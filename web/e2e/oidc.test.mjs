// The OpenID Connect provider in the browser: an admin registers a confidential client in the
// admin UI (its secret shown once); a relying party's authorization request (PKCE S256) sends
// a signed-out user through the login page to the consent page and, on Allow, to the
// redirect URI with `code` and `state` (a small Node server stands in for the application,
// which then redeems the code); the profile's "Connected apps" card lists the client and
// revoking takes it away. Also: prompt=login signs a signed-in user out first, a used
// request says it has expired, Deny goes back with access_denied, an RP-initiated logout
// from the application's site (which brings no SameSite=Strict cookies) is confirmed on the
// page /oauth/logout before anything ends, and the admin deletes the client.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  assertHttpOnlySession,
  assertNoTokenVisible,
  expectText,
  newPage,
  openAdminConsole,
  openUserMenu,
  pkce,
  screenshot,
  signIn,
  startBrowser,
  startServer,
} from './harness.mjs';

const EXPIRED =
  'This sign-in request has expired or was already used. Go back to the application and try again.';

/**
 * The application's side: a server on a free loopback port that records what reaches /cb
 * (sign-in callbacks) and / (its post-logout redirect URI), and serves the pages `page`
 * gives it (its own site, so that a navigation from one to Portcullis is cross-site).
 */
async function startRelyingParty() {
  const received = [];
  const loggedOut = [];
  const waiting = [];
  const pages = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/cb' || url.pathname === '/') {
      (url.pathname === '/cb' ? received : loggedOut).push(url);
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
  const waitFor = async (list, count, what, timeout = 10_000) => {
    const end = Date.now() + timeout;
    while (list.length < count) {
      if (Date.now() > end) assert.fail(`the application received ${list.length} ${what}, not ${count}`);
      await new Promise((wake) => {
        waiting.push(wake);
        setTimeout(wake, 200);
      });
    }
    return list[count - 1];
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    redirectUri: `http://127.0.0.1:${port}/cb`,
    postLogoutUri: `http://127.0.0.1:${port}/`,
    received,
    loggedOut,
    /** Serves `html` at `path`; its full URL. */
    page(path, html) {
      pages.set(path, `<!doctype html><meta charset="utf-8"><title>Relying party</title>${html}`);
      return `http://127.0.0.1:${port}${path}`;
    },
    /** The `count`-th return to the post-logout redirect URI. */
    logoutReturn: (count, timeout) => waitFor(loggedOut, count, 'post-logout returns', timeout),
    /** The `count`-th callback the application received. */
    callback: (count, timeout) => waitFor(received, count, 'callbacks', timeout),
    stop: () => new Promise((ok) => server.close(ok)),
  };
}

function authorizeUrl(server, clientId, redirectUri, challenge, extra = {}) {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid profile',
    state: 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return `${server.url}/api/oauth/authorize?${params}`;
}

/** The application redeems a code with its secret and the PKCE verifier: the token endpoint's answer. */
async function redeem(server, client, redirectUri, code, verifier) {
  const res = await fetch(`${server.url.replace('localhost', '127.0.0.1')}/api/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }),
  });
  return { status: res.status, body: await res.json() };
}

/** `GET /api/auth/me`'s status from the page (same origin: the browser sends the page's cookies). */
async function meStatus(page) {
  return page.evaluate(() => fetch('/api/auth/me').then((r) => r.status));
}

/** `GET /api/auth/me`'s status with these cookies (as the browser held them), from outside the browser. */
async function meStatusWith(server, cookies) {
  const res = await fetch(`${server.url.replace('localhost', '127.0.0.1')}/api/auth/me`, {
    headers: { cookie: cookies.filter((c) => c.name.startsWith('portcullis_')).map((c) => `${c.name}=${c.value}`).join('; ') },
  });
  return res.status;
}

/** The login page's form, filled in and sent (it then goes wherever its returnUrl says). */
async function logInOnLoginPage(page, username, password = PASSWORD) {
  await page.locator('#login-username').waitFor();
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('button[type="submit"]');
}

/** What the consent page says each scope is for (not the values it shows with them). */
async function consentScopes(page) {
  return (await page.locator('[data-testid="consent-scope-label"]').allTextContents()).map((t) => t.trim());
}

async function openClients(page, server) {
  await signIn(page, server, ADMIN.username, ADMIN.password);
  await openAdminConsole(page);
  await page.click('[data-testid="admin-tab-clients"]');
  await page.waitForURL(/\/admin\/clients$/);
  await page.locator('[data-testid="client-form"]').waitFor();
}

describe('OpenID Connect', () => {
  let server;
  let browser;
  let rp;
  let admin;
  let client;

  before(async () => {
    server = await startServer({ PORTCULLIS_TOKEN_DELIVERY: 'cookie' });
    browser = await startBrowser();
    rp = await startRelyingParty();
  });
  after(async () => {
    await browser?.close();
    await rp?.stop();
    await server?.stop();
  });

  test('an admin registers a confidential client: the secret is shown once', async () => {
    admin = await newPage(browser);
    await openClients(admin, server);
    await admin.fill('#client-name', 'E2E Notes');
    await admin.fill('#client-redirect-uris', `${rp.redirectUri}\n`);
    await admin.fill('#client-logout-uris', rp.postLogoutUri);
    for (const scope of ['openid', 'profile', 'email', 'roles', 'offline_access']) {
      assert.equal(await admin.isChecked(`#client-scope-${scope}`), true, `${scope} is checked by default`);
    }
    assert.equal(await admin.isChecked('#client-public'), false);
    await admin.click('[data-testid="create-client"]');
    await admin.locator('[data-testid="client-secret"]').waitFor();
    assert.match(await admin.locator('[data-testid="client-created"]').textContent(), /It will not be shown again/);
    client = {
      id: (await admin.locator('[data-testid="created-client-id"]').textContent()).trim(),
      secret: (await admin.locator('[data-testid="client-secret"]').textContent()).trim(),
    };
    assert.ok(client.id && client.secret, 'a client id and a secret');
    await expectText(admin, `tr[data-client-id="${client.id}"] [data-testid="client-type"]`, 'Confidential');
    await screenshot(admin, 'oidc-client-created');

    // Once dismissed (or after a reload) the secret is nowhere on the page.
    await admin.click('[data-testid="dismiss-secret"]');
    await admin.reload();
    await admin.locator(`tr[data-client-id="${client.id}"]`).waitFor();
    assert.doesNotMatch(await admin.locator('body').textContent(), new RegExp(client.secret));
    await assertNoTokenVisible(admin);
  });

  test('a server validation error is shown as the server says it', async () => {
    await admin.fill('#client-name', 'Plain http');
    await admin.fill('#client-redirect-uris', 'http://app.example/cb');
    await admin.click('[data-testid="create-client"]');
    await admin.locator('[data-testid="client-create-error"]').waitFor();
    assert.match(await admin.locator('[data-testid="client-create-error"]').textContent(), /http/);
    assert.equal(await admin.locator('tr[data-client-id]').count(), 1, 'nothing was created');
  });

  test('signed out: authorize → login → consent → Allow → the redirect URI with code and state', async () => {
    assert.ok(client, 'the client of the first test');
    await server.signUp('olivia');
    const page = await newPage(browser);
    const { verifier, challenge } = pkce();

    await page.goto(authorizeUrl(server, client.id, rp.redirectUri, challenge));
    await page.waitForURL(/\/login\?/);
    const returnUrl = new URL(page.url()).searchParams.get('returnUrl');
    assert.match(returnUrl, /^\/oauth\/consent\?request=[^&]+/, 'the login page brings the user back to the consent');
    await logInOnLoginPage(page, 'olivia');

    await page.waitForURL(/\/oauth\/consent\?request=/);
    await expectText(page, '[data-testid="consent-title"]', 'E2E Notes wants to use your Portcullis account');
    await expectText(page, '[data-testid="consent-username"]', 'olivia');
    assert.deepEqual(await consentScopes(page), ['Know who you are (your account id)', 'Your username']);
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
    await screenshot(page, 'oidc-consent');
    const consentUrl = page.url();

    await page.click('[data-testid="consent-allow"]');
    const callback = await rp.callback(1);
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    assert.ok(callback.searchParams.get('code'), `a code in ${callback}`);
    assert.equal(callback.searchParams.get('state'), 'xyz');
    assert.equal(callback.searchParams.get('error'), null);
    assert.equal(new URL(page.url()).searchParams.get('code'), callback.searchParams.get('code'));

    // The application redeems the code with its secret and the PKCE verifier.
    const { status, body: tokens } = await redeem(server, client, rp.redirectUri, callback.searchParams.get('code'), verifier);
    assert.equal(status, 200, `the token endpoint: ${JSON.stringify(tokens)}`);
    assert.ok(tokens.id_token && tokens.access_token, 'an ID token and an access token');

    // The request is spent: its consent page now says so.
    await page.goto(consentUrl);
    await expectText(page, '[data-testid="consent-expired"]', EXPIRED);
    await assertNoTokenVisible(page);

    // The account console lists the application; revoking (after a confirmation) takes it away.
    await openUserMenu(page);
    await page.click('[data-testid="menu-account"]');
    await page.click('[data-testid="account-nav-apps"]');
    await page.waitForURL(/\/account\/apps$/);
    const item = page.locator(`[data-testid="connected-app"][data-client-id="${client.id}"]`);
    await item.waitFor();
    await expectText(page, '[data-testid="connected-app-name"]', 'E2E Notes');
    await screenshot(page, 'oidc-connected-apps');
    await item.locator('[data-testid="connected-app-revoke"]').click();
    assert.match(await item.locator('[data-testid="connected-app-confirm"]').textContent(), /signed out/);
    await item.locator('[data-testid="connected-app-confirm-revoke"]').click();
    await expectText(page, '[data-testid="connected-apps-empty"]', 'No applications have access to your account.');
    await page.reload();
    await expectText(page, '[data-testid="connected-apps-empty"]', 'No applications have access to your account.');
    assert.equal(await page.locator('[data-testid="connected-app"]').count(), 0);
    // Revoking also signed the application out: only this browser's session is left.
    await page.click('[data-testid="account-nav-sessions"]');
    await page.locator('[data-testid="session"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="session"]').count(), 1, "the application's session ended too");

    await assertNoTokenVisible(page);
  });

  test('prompt=login: a signed-in user is signed out, signs in again, and comes back to the consent', async () => {
    await server.signUp('pablo');
    const page = await newPage(browser);
    await signIn(page, server, 'pablo');
    const { challenge } = pkce();

    await page.goto(authorizeUrl(server, client.id, rp.redirectUri, challenge, { prompt: 'login' }));
    await page.waitForURL(/\/login\?/);
    await expectText(page, '[data-testid="notice"]', 'Please sign in again to continue to the application.');
    const cookies = (await page.context().cookies()).map((c) => c.name);
    assert.ok(!cookies.includes('portcullis_access'), `signed out first: ${cookies.join(', ')}`);
    await logInOnLoginPage(page, 'pablo');

    await page.waitForURL(/\/oauth\/consent\?request=/);
    await expectText(page, '[data-testid="consent-title"]', 'E2E Notes wants to use your Portcullis account');
    await expectText(page, '[data-testid="consent-username"]', 'pablo');

    // Deny: back at the application with access_denied, and no code.
    const before = rp.received.length;
    await page.click('[data-testid="consent-deny"]');
    const callback = await rp.callback(before + 1);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), 'xyz');
    assert.equal(callback.searchParams.get('code'), null);
  });

  test('RP-initiated logout from the application\'s site: the page asks, and only Sign out ends the session', async () => {
    await server.signUp('quentin');
    const page = await newPage(browser);
    const { verifier, challenge } = pkce();
    await page.goto(authorizeUrl(server, client.id, rp.redirectUri, challenge));
    await page.waitForURL(/\/login\?/);
    await logInOnLoginPage(page, 'quentin');
    await page.waitForURL(/\/oauth\/consent\?request=/);
    const before = rp.received.length;
    await page.click('[data-testid="consent-allow"]');
    const callback = await rp.callback(before + 1);
    // The relying party hears the request before the browser has arrived: let the
    // navigation end before this page goes anywhere else.
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    const { status, body: tokens } = await redeem(server, client, rp.redirectUri, callback.searchParams.get('code'), verifier);
    assert.equal(status, 200, `the token endpoint: ${JSON.stringify(tokens)}`);
    const session = await page.context().cookies(server.url);
    assert.equal(await meStatusWith(server, session), 200, 'signed in');

    // On the application's own site (another site than Portcullis's), the user follows its
    // "Sign out" link to the end-session endpoint: a cross-site navigation, without cookies.
    const logoutUrl = `${server.url}/api/oauth/logout?${new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: rp.postLogoutUri,
      state: 'bye-42',
    })}`;
    await page.goto(rp.page('/account', `<a id="sign-out" href="${logoutUrl.replace(/&/g, '&amp;')}">Sign out</a>`));
    await page.click('#sign-out');
    await page.waitForURL(/\/oauth\/logout\?/);
    const landed = new URL(page.url());
    assert.equal(landed.origin, server.url);
    assert.equal(landed.searchParams.get('id_token_hint'), tokens.id_token);
    assert.equal(landed.searchParams.get('post_logout_redirect_uri'), rp.postLogoutUri);
    assert.equal(landed.searchParams.get('state'), 'bye-42');
    await expectText(page, '[data-testid="logout-title"]', 'E2E Notes asks you to sign out of Portcullis.');
    await expectText(page, '[data-testid="logout-username"]', 'quentin');
    await screenshot(page, 'oidc-logout-confirm');

    // Nothing has ended yet: the session still answers, the application has not been told.
    assert.equal(await meStatus(page), 200, 'the session still works before the click');
    assert.equal(await meStatusWith(server, session), 200, 'the session still works before the click');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
    assert.equal(rp.loggedOut.length, 0, 'no return to the application before the click');

    await page.click('[data-testid="logout-sign-out"]');
    const back = await rp.logoutReturn(1);
    assert.equal(back.searchParams.get('state'), 'bye-42');
    await page.waitForURL((url) => url.href.startsWith(rp.postLogoutUri));
    assert.equal(new URL(page.url()).searchParams.get('state'), 'bye-42');

    // The session has ended on the server, not only lost its cookies.
    assert.equal(await meStatusWith(server, session), 401, 'the old cookies no longer work');
    const left = (await page.context().cookies(server.url)).map((c) => c.name);
    assert.ok(!left.includes('portcullis_access') && !left.includes('portcullis_refresh'), `cookies cleared: ${left.join(', ')}`);
    await page.goto(`${server.url}/home`);
    assert.equal(await meStatus(page), 401, 'signed out');
    await assertNoTokenVisible(page);
  });

  test('RP-initiated logout by a form POST in a browser not signed in: Continue goes back with state', async () => {
    await server.signUp('rosa');
    const rosa = await newPage(browser);
    const { verifier, challenge } = pkce();
    await rosa.goto(authorizeUrl(server, client.id, rp.redirectUri, challenge));
    await logInOnLoginPage(rosa, 'rosa');
    await rosa.waitForURL(/\/oauth\/consent\?request=/);
    const before = rp.received.length;
    await rosa.click('[data-testid="consent-allow"]');
    const callback = await rp.callback(before + 1);
    await rosa.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    const { body: tokens } = await redeem(server, client, rp.redirectUri, callback.searchParams.get('code'), verifier);
    assert.ok(tokens.id_token, 'an ID token');
    const rosaSession = await rosa.context().cookies(server.url);

    // Another browser, signed in to nothing, posts the application's logout form.
    const page = await newPage(browser);
    const fields = { id_token_hint: tokens.id_token, post_logout_redirect_uri: rp.postLogoutUri, state: 'form-7' };
    const inputs = Object.entries(fields)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
      .join('');
    await page.goto(rp.page('/form', `<form method="post" action="${server.url}/api/oauth/logout">${inputs}<button id="go">Sign out</button></form>`));
    await page.click('#go');
    await page.waitForURL(/\/oauth\/logout\?/);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'form-7');
    await expectText(page, '[data-testid="logout-title"]', 'You are not signed in to Portcullis.');
    assert.equal(await page.locator('[data-testid="logout-sign-out"]').count(), 0);

    const returns = rp.loggedOut.length;
    await page.click('[data-testid="logout-continue"]');
    const back = await rp.logoutReturn(returns + 1);
    assert.equal(back.searchParams.get('state'), 'form-7');
    // The relying party heard the request before the browser finished arriving there: wait
    // for the navigation to end before reading the page again.
    await page.waitForURL((url) => url.href.startsWith(rp.postLogoutUri));
    // Nothing of rosa's ended: this browser had no session of hers.
    assert.equal(await meStatusWith(server, rosaSession), 200, "the other browser's session goes on");
    await page.goto(`${server.url}/home`);
    await assertNoTokenVisible(page);
  });

  test('the admin deletes the client after a confirmation', async () => {
    const row = admin.locator(`tr[data-client-id="${client.id}"]`);
    await row.locator('[data-testid="delete-client"]').click();
    await row.locator('[data-testid="confirm-delete-client"]').click();
    await row.waitFor({ state: 'detached' });
    await admin.reload();
    await expectText(admin, '[data-testid="clients-empty"]', 'No clients yet.');
    await assertNoTokenVisible(admin);
  });
});
