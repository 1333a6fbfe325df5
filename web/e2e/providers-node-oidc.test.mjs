// Signing in with another identity provider, in the browser, against an upstream that is not
// Portcullis: node-oidc-provider (e2e/node-oidc-upstream.mjs, http://127.0.0.1:PORT, its own
// development login and consent pages), with confidential clients (client_secret_basic, PKCE
// required) for the downstream server's callbacks. The downstream (the harness's server) gets
// its providers through the admin API. It proves, from the downstream login page's "Continue
// with …" buttons:
// - a person known only upstream gets a new account (its username from preferred_username,
//   which the library gives only at userinfo), linked, signed in with HttpOnly cookies; the
//   request carried state, nonce and an S256 PKCE challenge, the answer RFC 9207's iss; signed
//   out, the same button signs the same account in again;
// - the only way an account signs in cannot be unlinked (the account console says what to do first);
//   once the account has a password, it can;
// - an account with a TOTP app that links the provider from its account console takes its second step
//   after the provider (the /login#mfa=… fragment, taken out of the address), and one signing
//   in through a provider trusted for both factors does not;
// - what goes wrong ends on the login page with its sentence and no session: the person
//   cancels at the upstream (provider_refused), a callback replayed in the same or another
//   browser or with a forged state (provider_state_invalid), an upstream that is down
//   (provider_unavailable, within seconds), a provider that makes no accounts
//   (provider_no_account), an email that has an account here (provider_link_required);
// - the audit trail has the sign-ins, the failures with their codes, the links and unlinks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  adminCookies,
  apiUrl,
  at,
  cli,
  assertHttpOnlySession,
  assertNoTokenVisible,
  expectText,
  freePort,
  newPage,
  screenshot,
  signIn,
  signOutFromMenu,
  sleep,
  startBrowser,
  startServer,
  totp,
  totpStep,
} from './harness.mjs';
import { UPSTREAM_PEOPLE, startNodeOidcUpstream } from './node-oidc-upstream.mjs';

const NEW_PASSWORD = 'Analytical-Engine-1843!';

/** The providers made at the downstream, by id: their display names. */
const NODE = 'Node OIDC';
const TRUSTED = 'Node OIDC (trusted)';
const MEMBERS = 'Node OIDC (members)';
const OFFLINE = 'Offline IdP';

/** What the web app says (web/src/app/core/provider-errors.ts, linked-signins-card.ts). */
const REFUSED = `The sign-in at ${NODE} was cancelled or refused. Try again, or sign in another way.`;
const STATE_INVALID =
  'That sign-in expired, was already used, or was started in another browser. Start it again from this page.';
const UNAVAILABLE = `${OFFLINE} could not be reached. Try again in a moment.`;
const NO_ACCOUNT = `No account here is linked to that ${MEMBERS} identity, and none can be made with it. Sign in another way, or ask an administrator.`;
const LINK_REQUIRED = `An account with this email already exists. Sign in to it, then link ${NODE} from your account, under Linked sign-ins.`;
const LAST_METHOD = `${NODE}: This is the account's only way to sign in: set a password or add a passkey first.`;
const UNLINKED = `${NODE} is unlinked: it no longer signs you in.`;




/** A call to the downstream's admin API; `{ status, body }`. */
async function adminCall(server, cookies, method, path, body) {
  const res = await fetch(apiUrl(server, path), {
    method,
    headers: { cookie: cookies, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const button = (id) => `[data-testid="provider-signin"][data-provider="${id}"]`;
const linked = (id) => `[data-testid="linked-signin"][data-provider="${id}"]`;


/**
 * A page of its own browser profile that keeps what the sign-in flows through it: the
 * authorization requests to the upstream (`flow.authorizations`, as URLs), the callbacks at
 * the downstream (`flow.callbacks`) and where the downstream sent each (`flow.landings`, the
 * Location of its 303; `flow.arrived` once the browser is there). The upstream's pages import
 * a web font; nothing leaves the machine.
 */
async function flowPage(browser, upstream, down) {
  const page = await newPage(browser);
  await page.route('https://fonts.googleapis.com/**', (route) => route.abort());
  const flow = { authorizations: [], callbacks: [], landings: [], arrived: false };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === upstream.issuer && url.pathname === '/auth') flow.authorizations.push(url);
    if (url.origin === down.url && /^\/api\/auth\/providers\/[^/]+\/callback$/.test(url.pathname)) flow.callbacks.push(url);
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin === down.url && /^\/api\/auth\/providers\/[^/]+\/callback$/.test(url.pathname)) {
      flow.landings.push({ status: response.status(), location: response.headers().location ?? null });
      flow.arrived = false;
    }
  });
  // Whether the browser has been on a page of the downstream since the last callback answered.
  page.on('framenavigated', (frame) => {
    const url = new URL(frame.url());
    if (frame === page.mainFrame() && url.origin === down.url && !url.pathname.startsWith('/api/')) flow.arrived = true;
  });
  page.flow = flow;
  return page;
}

/** Whether `selector` is visible now (false while the page is between documents). */
async function visible(page, selector) {
  try {
    return await page.locator(selector).first().isVisible();
  } catch {
    return false;
  }
}

/**
 * Starts a flow with `go` (a click that leads to the upstream) and goes through the
 * upstream's pages, whichever come: its login page (when this browser has no session there:
 * `login` is typed, its password is not checked) and its consent page (when this client was
 * not allowed yet: Continue, or with `deny` its Cancel link). Done once the downstream's
 * callback has answered and the browser is on a page of the downstream again (an upstream
 * that remembers the person and the consent shows no page at all: only redirects).
 */
async function throughUpstream(page, upstream, down, go, login, { deny = false } = {}) {
  const before = page.flow.landings.length;
  await go();
  const deadline = Date.now() + 20_000;
  let signedIn = false;
  let answered = false;
  for (;;) {
    if (page.flow.landings.length > before && page.flow.arrived) return;
    const url = new URL(page.url());
    const onUpstream = url.origin === upstream.issuer && url.pathname.startsWith('/interaction/');
    if (onUpstream && !signedIn && (await visible(page, 'input[name="login"]'))) {
      await screenshot(page, 'node-oidc-upstream-login');
      await page.fill('input[name="login"]', login);
      await page.fill('input[name="password"]', 'not checked by the dev pages');
      await page.click('button[type="submit"]');
      signedIn = true;
    } else if (onUpstream && !answered && (await visible(page, 'form:has(input[name="prompt"][value="consent"]) button'))) {
      await screenshot(page, 'node-oidc-upstream-consent');
      await page.click(deny ? 'a:has-text("[ Cancel ]")' : 'form:has(input[name="prompt"][value="consent"]) button');
      answered = true;
    }
    if (Date.now() > deadline) assert.fail(`not back on the downstream: stuck at ${page.url()}`);
    await sleep(50);
  }
}

/** Continue with provider `id` on the downstream login page, through the upstream as `login`. */
async function continueWith(page, upstream, down, id, login, options) {
  if (!at(down, '/login')(new URL(page.url()))) await page.goto(`${down.url}/login`);
  await throughUpstream(page, upstream, down, () => page.click(button(id)), login, options);
}

/**
 * "Link …" on the account console's Linked sign-ins page, through the upstream as `login`,
 * back on that page.
 */
async function linkFromProfile(page, upstream, down, id, login) {
  await page.click('[data-testid="account-nav-linked"]');
  await throughUpstream(page, upstream, down, () => page.click(`[data-testid="link-provider"][data-provider="${id}"]`), login);
  await page.waitForURL(at(down, '/account/linked'));
}

async function signOut(page) {
  await signOutFromMenu(page);
  await page.waitForURL(/\/login\?reason=signedout$/);
}

/** This device's session, as the account console's Sessions page says it was signed in. */
async function thisSessionMethod(page) {
  await page.click('[data-testid="account-nav-sessions"]');
  const method = page.locator('[data-testid="session"]', { hasText: 'This device' }).locator('[data-testid="session-method"]');
  await method.waitFor();
  return (await method.textContent()).trim();
}

/** The browser has no session at the downstream (the session cookies are not there). */
async function assertNoSession(page, down) {
  const names = (await page.context().cookies(down.url)).map((c) => c.name);
  assert.ok(!names.includes('portcullis_access') && !names.includes('portcullis_refresh'), `no session: ${names.join(', ')}`);
}

/** On the downstream login page with `?error=<code>` and the app's sentence for it, signed out. */
async function expectLoginError(page, down, code, sentence) {
  await page.waitForURL((url) => at(down, '/login')(url) && url.search === `?error=${code}`);
  await expectText(page, '[data-testid="provider-error"]', sentence);
  await page.locator('#login-username').waitFor();
  await assertNoSession(page, down);
}

describe('signing in with node-oidc-provider as the upstream', () => {
  let down;
  let upstream;
  let browser;
  let admin;
  const callback = (id) => `${down.url}/api/auth/providers/${id}/callback`;
  const clients = {
    main: { clientId: 'portcullis-downstream', clientSecret: randomBytes(32).toString('base64url') },
    trusted: { clientId: 'portcullis-downstream-trusted', clientSecret: randomBytes(32).toString('base64url') },
  };

  /** Configures a provider at the downstream through the admin API. */
  async function addProvider(settings) {
    const { status, body } = await adminCall(down, admin, 'POST', '/api/admin/providers', { kind: 'oidc', ...settings });
    assert.equal(status, 201, `the provider ${settings.id}: ${JSON.stringify(body)}`);
    assert.equal(body.hasSecret, true);
    assert.equal('clientSecret' in body, false, 'the secret never comes out');
    return body;
  }

  before(async () => {
    down = await startServer();
    upstream = await startNodeOidcUpstream({
      clients: [
        { ...clients.main, redirectUris: [callback('node'), callback('node-members')] },
        { ...clients.trusted, redirectUris: [callback('node-trusted')] },
      ],
    });
    browser = await startBrowser();
    admin = await adminCookies(down);
    const common = { issuer: upstream.issuer, scopes: ['openid', 'email', 'profile'] };
    await addProvider({ id: 'node', displayName: NODE, ...common, ...clients.main, signup: 'open' });
    await addProvider({ id: 'node-members', displayName: MEMBERS, ...common, ...clients.main, signup: 'existing' });
    const trusted = await addProvider({
      id: 'node-trusted',
      displayName: TRUSTED,
      ...common,
      ...clients.trusted,
      signup: 'existing',
      trustedForMfa: true,
    });
    assert.equal(trusted.trustedForMfa, true);
  });

  after(async () => {
    await browser?.close();
    await upstream?.stop();
    await down?.stop();
  });

  test('a person known only upstream: its login and consent pages → a new account here, linked; again → the same account', async () => {
    const page = await flowPage(browser, upstream, down);
    await page.goto(`${down.url}/login`);
    await expectText(page, button('node'), `Continue with ${NODE}`);
    await screenshot(page, 'node-oidc-login');
    await throughUpstream(page, upstream, down, () => page.click(button('node')), 'ada');
    await page.waitForURL(at(down, '/account'));

    // What went to the upstream, and what came back.
    const [authorization] = page.flow.authorizations;
    const sent = authorization.searchParams;
    assert.equal(sent.get('response_type'), 'code');
    assert.equal(sent.get('client_id'), clients.main.clientId);
    assert.equal(sent.get('redirect_uri'), callback('node'));
    assert.deepEqual(sent.get('scope').split(' ').sort(), ['email', 'openid', 'profile']);
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.match(sent.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(sent.get('state') && sent.get('nonce'), `state and nonce: ${authorization}`);
    const [back] = page.flow.callbacks;
    assert.equal(back.searchParams.get('iss'), upstream.issuer, 'RFC 9207: the answer names its issuer');
    assert.equal(back.searchParams.get('state'), sent.get('state'));
    assert.ok(back.searchParams.get('code'));
    assert.deepEqual(page.flow.landings, [{ status: 303, location: '/account' }]);

    // A new account: the username is the upstream's preferred_username (not the email's local part).
    const ada = UPSTREAM_PEOPLE.ada;
    await expectText(page, '[data-testid="username"]', ada.preferred_username);
    await expectText(page, '[data-testid="email"]', ada.email);
    await page.click('[data-testid="account-nav-linked"]');
    await expectText(page, `${linked('node')} [data-testid="linked-signin-provider"]`, NODE);
    await expectText(page, `${linked('node')} [data-testid="linked-signin-email"]`, ada.email);
    assert.equal(await thisSessionMethod(page), 'Another provider');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
    await screenshot(page, 'node-oidc-profile');

    // Signed out here, the same button signs the same account in: the upstream has its
    // session and the consent, so none of its pages shows.
    await signOut(page);
    await page.click(button('node'));
    await page.waitForURL(at(down, '/account'));
    await expectText(page, '[data-testid="username"]', ada.preferred_username);
    assert.equal(page.flow.authorizations.length, 2);
    assert.equal(page.flow.callbacks.length, 2);
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
  });

  test('the only way an account signs in is not unlinked; once it has a password, it is', async () => {
    const username = UPSTREAM_PEOPLE.ada.preferred_username;
    const page = await flowPage(browser, upstream, down);
    await continueWith(page, upstream, down, 'node', 'ada');
    await page.waitForURL(at(down, '/account'));
    await expectText(page, '[data-testid="username"]', username);
    await page.click('[data-testid="account-nav-linked"]');

    // A sign-in a moment ago: no password asked (it has none it knows); refused all the same.
    await page.click(`${linked('node')} [data-testid="linked-signin-unlink"]`);
    const refused = page.waitForResponse((r) => /\/api\/auth\/identities\/\d+$/.test(new URL(r.url()).pathname));
    await page.click(`${linked('node')} [data-testid="linked-signin-confirm-unlink"]`);
    const answer = await refused;
    assert.equal(answer.status(), 409);
    assert.equal((await answer.json()).code, 'last_signin_method');
    await expectText(page, '[data-testid="linked-signins-error"]', LAST_METHOD);
    await screenshot(page, 'node-oidc-unlink-refused');
    await page.reload();
    await expectText(page, `${linked('node')} [data-testid="linked-signin-provider"]`, NODE);

    // A password, with a reset link (the command line's, as an admin would hand it over).
    const link = /(https?:\/\/\S+\/reset-password\?token=[A-Za-z0-9_-]+)/.exec(cli(down, ['user', 'reset-link', username]))?.[1];
    assert.ok(link?.startsWith(`${down.url}/reset-password?token=`), `a reset link: ${link}`);
    const reset = await newPage(browser);
    await reset.goto(link);
    await reset.fill('#reset-new', NEW_PASSWORD);
    await reset.fill('#reset-confirm', NEW_PASSWORD);
    await reset.click('button[type="submit"]');
    await expectText(reset, '[data-testid="success"]', 'Your password has been changed. Sign in with the new one.');

    // Signed in with it, the account unlinks the provider.
    const owner = await newPage(browser);
    await signIn(owner, down, username, NEW_PASSWORD);
    await owner.click('[data-testid="account-nav-linked"]');
    await expectText(owner, `${linked('node')} [data-testid="linked-signin-provider"]`, NODE);
    await owner.click(`${linked('node')} [data-testid="linked-signin-unlink"]`);
    await owner.click(`${linked('node')} [data-testid="linked-signin-confirm-unlink"]`);
    await expectText(owner, '[data-testid="linked-signins-notice"]', UNLINKED);
    await expectText(owner, '[data-testid="linked-signins-empty"]', 'No sign-ins at other providers are linked.');
    await owner.reload();
    await expectText(owner, '[data-testid="linked-signins-empty"]', 'No sign-ins at other providers are linked.');
    assert.equal(await owner.locator('[data-testid="linked-signin"]').count(), 0);
    await expectText(owner, `[data-testid="link-provider"][data-provider="node"]`, `Link ${NODE}`);
    await screenshot(owner, 'node-oidc-unlinked');
    await assertNoTokenVisible(owner);
  });

  test('an account with a TOTP app takes its second step after the provider; a provider trusted for both factors skips it', async () => {
    await down.signUp('grace');
    const page = await flowPage(browser, upstream, down);
    await signIn(page, down, 'grace');
    await page.click('[data-testid="account-nav-security"]');

    // A TOTP app, confirmed with the code of the step before this one (the server accepts
    // it), so that the code of this step is a later one, which the sign-in accepts, at once.
    await page.click('[data-testid="setup-totp"]');
    const secret = (await page.locator('[data-testid="totp-secret"]').textContent()).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    if (Date.now() % 30_000 > 25_000) await sleep(30_000 - (Date.now() % 30_000) + 100);
    await page.fill('#totp-code', totp(secret, (totpStep() - 1) * 30_000));
    await page.click('[data-testid="totp-confirm"]');
    await page.locator('[data-testid="recovery-code"]').nth(9).waitFor();
    await page.click('[data-testid="codes-done"]');
    await expectText(page, '[data-testid="totp-on"]', 'On');

    // Linked from the account console (a sign-in a moment ago: no password asked).
    await linkFromProfile(page, upstream, down, 'node', 'grace');
    await expectText(page, `${linked('node')} [data-testid="linked-signin-provider"]`, NODE);
    await expectText(page, `${linked('node')} [data-testid="linked-signin-email"]`, 'grace@example.com');
    await signOut(page);

    // The provider is the first factor: the code is the second.
    await page.click(button('node'));
    await expectText(page, '[data-testid="mfa-step"]', 'Two-step sign-in');
    const landing = page.flow.landings.at(-1);
    assert.equal(landing.status, 303);
    assert.match(landing.location, /^\/login#mfa=[^&]+&methods=[a-z,]*totp/, `to the second step: ${landing.location}`);
    assert.ok(at(down, '/login')(new URL(page.url())));
    assert.equal(new URL(page.url()).hash, '', 'the token left the address');
    await assertNoSession(page, down);
    await screenshot(page, 'node-oidc-second-step');
    await page.fill('#mfa-code', totp(secret, Date.now()));
    await page.click('[data-testid="mfa-verify"]');
    await page.waitForURL(at(down, '/account'));
    await expectText(page, '[data-testid="username"]', 'grace');
    assert.equal(await thisSessionMethod(page), 'Another provider + authenticator app');
    await assertHttpOnlySession(page);

    // The provider trusted for both factors: linked too (its own client upstream, so its
    // consent page), then it signs in with no second step.
    await linkFromProfile(page, upstream, down, 'node-trusted', 'grace');
    await expectText(page, `${linked('node-trusted')} [data-testid="linked-signin-provider"]`, TRUSTED);
    await signOut(page);
    await page.click(button('node-trusted'));
    await page.waitForURL(at(down, '/account'));
    assert.deepEqual(page.flow.landings.at(-1), { status: 303, location: '/account' });
    await expectText(page, '[data-testid="username"]', 'grace');
    assert.equal(await thisSessionMethod(page), 'Another provider (both factors)');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
  });

  test('cancelled at the upstream: provider_refused', async () => {
    const page = await flowPage(browser, upstream, down);
    await continueWith(page, upstream, down, 'node', 'carl', { deny: true });
    assert.equal(page.flow.callbacks.at(-1).searchParams.get('error'), 'access_denied');
    assert.equal(page.flow.callbacks.at(-1).searchParams.get('iss'), upstream.issuer);
    await expectLoginError(page, down, 'provider_refused', REFUSED);
    await screenshot(page, 'node-oidc-refused');
    await assertNoTokenVisible(page);
  });

  test('a callback replayed, in the same browser or another, or with a forged state: provider_state_invalid', async () => {
    const page = await flowPage(browser, upstream, down);
    await continueWith(page, upstream, down, 'node', 'carl');
    await page.waitForURL(at(down, '/account'));
    await expectText(page, '[data-testid="username"]', 'carl');
    const used = page.flow.callbacks.at(-1).href;
    assert.ok(new URL(used).searchParams.get('code'), `a callback with a code: ${used}`);

    // The same browser, signed out: the state was spent.
    await signOut(page);
    await page.goto(used);
    await expectLoginError(page, down, 'provider_state_invalid', STATE_INVALID);

    // Another browser given the link.
    const other = await flowPage(browser, upstream, down);
    await other.goto(used);
    await expectLoginError(other, down, 'provider_state_invalid', STATE_INVALID);
    await screenshot(other, 'node-oidc-state-invalid');

    // A state nobody was given, in a browser that started a sign-in of its own.
    const forger = await flowPage(browser, upstream, down);
    await forger.goto(`${down.url}/login`);
    await forger.click(button('node'));
    await forger.waitForURL((url) => url.origin === upstream.issuer);
    const forged = new URL(callback('node'));
    forged.searchParams.set('code', 'forged-code');
    forged.searchParams.set('state', randomBytes(32).toString('base64url'));
    forged.searchParams.set('iss', upstream.issuer);
    await forger.goto(forged.href);
    await expectLoginError(forger, down, 'provider_state_invalid', STATE_INVALID);
    await assertNoTokenVisible(forger);
  });

  test('an upstream that is down: provider_unavailable, within seconds', async () => {
    const closed = await freePort();
    await addProvider({
      id: 'node-offline',
      displayName: OFFLINE,
      issuer: `http://127.0.0.1:${closed}`,
      clientId: 'nobody-listens',
      clientSecret: 'nobody-listens-secret',
      signup: 'open',
    });
    const page = await flowPage(browser, upstream, down);
    await page.goto(`${down.url}/login`);
    await expectText(page, button('node-offline'), `Continue with ${OFFLINE}`);
    const started = Date.now();
    await page.click(button('node-offline'));
    await expectLoginError(page, down, 'provider_unavailable', UNAVAILABLE);
    const took = Date.now() - started;
    assert.ok(took < 5_000, `the page answered in ${took} ms`);
    await screenshot(page, 'node-oidc-unavailable');
    assert.equal((await adminCall(down, admin, 'DELETE', '/api/admin/providers/node-offline')).status, 204);
  });

  test('a provider that makes no accounts, and a person with none here: provider_no_account', async () => {
    const page = await flowPage(browser, upstream, down);
    await continueWith(page, upstream, down, 'node-members', 'nemo');
    await expectLoginError(page, down, 'provider_no_account', NO_ACCOUNT);
    await screenshot(page, 'node-oidc-no-account');
    const { body } = await adminCall(down, admin, 'GET', '/api/admin/providers/node-members');
    assert.equal(body.identities, 0, 'nothing was linked');
  });

  test('an email that has an account here, not linked: provider_link_required', async () => {
    await down.signUp('vera');
    const page = await flowPage(browser, upstream, down);
    await continueWith(page, upstream, down, 'node', 'vera');
    await expectLoginError(page, down, 'provider_link_required', LINK_REQUIRED);
    await screenshot(page, 'node-oidc-link-required');
    await assertNoTokenVisible(page);
  });

  test('the audit trail has the sign-ins, the failures with why, the links and the unlink', async () => {
    const { status, body } = await adminCall(down, admin, 'GET', '/api/admin/audit?limit=100');
    assert.equal(status, 200);
    const events = body.items;
    const has = (want) => events.some((e) => Object.entries(want).every(([k, v]) => e[k] === v));
    const ada = UPSTREAM_PEOPLE.ada.preferred_username;
    assert.ok(has({ event: 'signup', outcome: 'ok', username: ada }), 'the account made at the first sign-in');
    assert.ok(has({ event: 'signin_provider', outcome: 'ok', username: ada }), 'its sign-in');
    assert.ok(has({ event: 'signin_provider', outcome: 'ok', username: 'grace' }), 'the sign-in with both factors');
    assert.ok(has({ event: 'provider_linked', outcome: 'ok', username: 'grace', detail: 'provider node' }));
    assert.ok(has({ event: 'provider_linked', outcome: 'ok', username: 'grace', detail: 'provider node-trusted' }));
    assert.ok(has({ event: 'provider_unlinked', outcome: 'ok', username: ada }));
    for (const detail of [
      'provider node: provider_refused',
      'provider node: provider_state_invalid',
      'provider node-members: provider_no_account',
      'provider node: provider_link_required',
    ]) {
      assert.ok(has({ event: 'signin_provider', outcome: 'failed', detail }), `a failure audited: ${detail}`);
    }
    for (const e of events) {
      assert.doesNotMatch(JSON.stringify(e), new RegExp(`${clients.main.clientSecret}|${clients.trusted.clientSecret}`));
    }
  });
});
