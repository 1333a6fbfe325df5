// Signing in with another identity provider, in the browser, against a real one: a second
// Portcullis (its own port, database and site, 127.0.0.1) is the upstream OpenID Connect
// provider, with a confidential client registered on the command line for the downstream
// server's callback; the downstream (the harness's server) gets the provider `up` through the
// admin API. A person who has an account only upstream clicks "Continue with Upstream" on the
// downstream login page, signs in on the upstream's own login page, allows the downstream on
// its consent page and lands on the downstream profile, signed in to a new account whose
// Linked sign-ins card lists Upstream; signed out, the same button signs the same account in
// again. The admin sees the provider (one account linked) and the person's identity, then
// turns the provider off: a login page opened before that sends its button to
// /login?error=provider_unknown, which says so. A person whose email already has an account
// downstream is refused (provider_link_required, said with the provider's name), signs in
// with the password and links Upstream from the profile.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  adminCookies,
  apiUrl,
  at,
  cli,
  PASSWORD,
  assertHttpOnlySession,
  assertNoTokenVisible,
  expectText,
  newPage,
  openAdminConsole,
  screenshot,
  signIn,
  signOutFromMenu,
  sleep,
  startBrowser,
  startServer,
} from './harness.mjs';

const UNKNOWN = 'That sign-in option is not available: it may have been turned off. Sign in another way.';
const LINK_REQUIRED = 'An account with this email already exists. Sign in to it, then link Upstream from your account, under Linked sign-ins.';



/** An account at the upstream, made on its command line (so its email counts as verified). */
function upstreamPerson(up, username, email) {
  cli(up, ['user', 'create', '--username', username, '--email', email, '--password-stdin'], `${PASSWORD}\n`);
}



/**
 * On the upstream: its login page (when this browser has no session there) and its consent
 * page (when the downstream was not allowed yet), whichever come, until the browser is back
 * on a page of the downstream.
 */
async function throughUpstream(page, up, down, username) {
  const deadline = Date.now() + 30_000;
  let signedIn = false;
  let allowed = false;
  for (;;) {
    const url = new URL(page.url());
    if (url.origin === down.url && !url.pathname.startsWith('/api/')) return;
    if (url.origin === up.url && url.pathname === '/login' && !signedIn && (await page.locator('#login-username').isVisible())) {
      await screenshot(page, 'providers-upstream-login');
      await page.fill('#login-username', username);
      await page.fill('#login-password', PASSWORD);
      await page.click('button[type="submit"]');
      signedIn = true;
    } else if (
      url.origin === up.url &&
      url.pathname === '/oauth/consent' &&
      !allowed &&
      (await page.locator('[data-testid="consent-allow"]').isVisible())
    ) {
      await expectText(page, '[data-testid="consent-username"]', username);
      await screenshot(page, 'providers-upstream-consent');
      await page.click('[data-testid="consent-allow"]');
      allowed = true;
    }
    if (Date.now() > deadline) assert.fail(`not back on the downstream: stuck at ${page.url()}`);
    await sleep(100);
  }
}

describe('signing in with another identity provider', () => {
  let down;
  let up;
  let browser;
  let client;

  before(async () => {
    down = await startServer();
    up = await startServer({}, { host: '127.0.0.1' });
    browser = await startBrowser();
    const callback = `${down.url}/api/auth/providers/up/callback`;
    const printed = cli(up, ['client', 'create', '--name', 'Downstream Portcullis', '--redirect-uri', callback]);
    client = {
      id: /client_id:\s+(\S+)/.exec(printed)?.[1],
      secret: /client_secret:\s+(\S+)/.exec(printed)?.[1],
    };
    assert.ok(client.id && client.secret, `a confidential client: ${printed}`);

    const res = await fetch(apiUrl(down, '/api/admin/providers'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: await adminCookies(down) },
      body: JSON.stringify({
        id: 'up',
        kind: 'oidc',
        displayName: 'Upstream',
        issuer: up.url,
        clientId: client.id,
        clientSecret: client.secret,
        signup: 'open',
      }),
    });
    const body = await res.json();
    assert.equal(res.status, 201, `the provider: ${JSON.stringify(body)}`);
    assert.equal(body.hasSecret, true);
    assert.equal('clientSecret' in body, false, 'the secret never comes out');
  });

  after(async () => {
    await browser?.close();
    await up?.stop();
    await down?.stop();
  });

  test('a person with an account only upstream: Continue with Upstream → its login and consent → a new account here, linked', async () => {
    upstreamPerson(up, 'uma', 'uma@upstream.example');
    const page = await newPage(browser);
    await page.goto(`${down.url}/login`);
    const button = page.locator('[data-testid="provider-signin"][data-provider="up"]');
    await expectText(page, '[data-testid="provider-signin"][data-provider="up"]', 'Continue with Upstream');
    await screenshot(page, 'providers-login');
    await button.click();

    // The upstream's own web app, at its own site.
    await page.waitForURL((url) => url.origin === up.url && url.pathname === '/login');
    await page.locator('#login-username').waitFor();
    await throughUpstream(page, up, down, 'uma');

    await page.waitForURL(at(down, '/account'));
    await expectText(page, '[data-testid="username"]', 'uma');
    await expectText(page, '[data-testid="nav-profile"]', 'uma');
    await expectText(page, '[data-testid="email"]', 'uma@upstream.example');
    await page.click('[data-testid="account-nav-linked"]');
    await expectText(page, '[data-testid="linked-signin"][data-provider="up"] [data-testid="linked-signin-provider"]', 'Upstream');
    await expectText(page, '[data-testid="linked-signin"][data-provider="up"] [data-testid="linked-signin-email"]', 'uma@upstream.example');
    // Upstream is linked: nothing left to link.
    assert.equal(await page.locator('[data-testid="link-provider"]').count(), 0);
    await page.click('[data-testid="account-nav-sessions"]');
    await expectText(page, '[data-testid="session"] [data-testid="session-method"]', 'Another provider');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
    await screenshot(page, 'providers-profile');

    // Signed out here, the same button signs the same account in again (the upstream still
    // has its session and the consent: no page of its own shows).
    await signOutFromMenu(page);
    await page.waitForURL(/\/login\?reason=signedout$/);
    await page.click('[data-testid="provider-signin"][data-provider="up"]');
    await throughUpstream(page, up, down, 'uma');
    await page.waitForURL(at(down, '/account'));
    await expectText(page, '[data-testid="username"]', 'uma');
    await assertNoTokenVisible(page);
  });

  test('the admin sees the provider and the identity, turns the provider off, and a stale button says so', async () => {
    // A login page opened while the provider is on.
    const visitor = await newPage(browser);
    await visitor.goto(`${down.url}/login`);
    await expectText(visitor, '[data-testid="provider-signin"][data-provider="up"]', 'Continue with Upstream');

    const admin = await newPage(browser);
    await signIn(admin, down, ADMIN.username, ADMIN.password);
    await openAdminConsole(admin);
    await admin.fill('#user-search', 'uma');
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="users"] tr[data-username]').length === 1);
    await admin.click('tr[data-username="uma"] [data-testid="rights"]');
    await expectText(admin, '[data-testid="user-identity"][data-provider="up"] [data-testid="user-identity-provider"]', 'Upstream');
    await screenshot(admin, 'providers-admin-user');

    await admin.click('[data-testid="admin-tab-providers"]');
    await admin.waitForURL(/\/admin\/providers$/);
    const row = 'tr[data-provider="up"]';
    await expectText(admin, `${row} [data-testid="provider-kind"]`, 'oidc');
    await expectText(admin, `${row} [data-testid="provider-name"]`, 'Upstream');
    await expectText(admin, `${row} [data-testid="provider-state"]`, 'On');
    await expectText(admin, `${row} [data-testid="provider-signup"]`, 'open');
    await expectText(admin, `${row} [data-testid="provider-identities"]`, '1');
    await screenshot(admin, 'providers-admin');
    await admin.click(`${row} [data-testid="disable-provider"]`);
    await expectText(admin, `${row} [data-testid="provider-state"]`, 'Off');
    await expectText(admin, '[data-testid="providers-notice"]', 'Upstream is off: nobody signs in with it.');
    await assertNoTokenVisible(admin);

    await visitor.click('[data-testid="provider-signin"][data-provider="up"]');
    await visitor.waitForURL((url) => url.origin === down.url && url.pathname === '/login' && url.search === '?error=provider_unknown');
    await expectText(visitor, '[data-testid="provider-error"]', UNKNOWN);
    // The list is the server's: no button for a provider that is off.
    await visitor.locator('#login-username').waitFor();
    await visitor.waitForLoadState('networkidle');
    assert.equal(await visitor.locator('[data-testid="provider-signin"]').count(), 0);
    await screenshot(visitor, 'providers-error');

    await admin.click(`${row} [data-testid="enable-provider"]`);
    await expectText(admin, `${row} [data-testid="provider-state"]`, 'On');
  });

  test('an email that has an account here is never taken over: refused, then linked by its owner from the account console', async () => {
    await down.signUp('vera');
    upstreamPerson(up, 'vera', 'vera@example.com');
    const page = await newPage(browser);
    await page.goto(`${down.url}/login`);
    await page.click('[data-testid="provider-signin"][data-provider="up"]');
    await throughUpstream(page, up, down, 'vera');
    await page.waitForURL((url) => url.origin === down.url && url.search === '?error=provider_link_required');
    await expectText(page, '[data-testid="provider-error"]', LINK_REQUIRED);
    await screenshot(page, 'providers-link-required');

    // The owner signs in with the password and links Upstream (a recent sign-in: no password asked).
    await page.fill('#login-username', 'vera');
    await page.fill('#login-password', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(at(down, '/account'));
    await page.click('[data-testid="account-nav-linked"]');
    await expectText(page, '[data-testid="linked-signins-empty"]', 'No sign-ins at other providers are linked.');
    await page.click('[data-testid="link-provider"][data-provider="up"]');
    await throughUpstream(page, up, down, 'vera');
    // Linking comes back to the page it began on.
    await page.waitForURL(at(down, '/account/linked'));
    await expectText(page, '[data-testid="linked-signin"][data-provider="up"] [data-testid="linked-signin-provider"]', 'Upstream');
    await expectText(page, '[data-testid="nav-profile"]', 'vera');
    await screenshot(page, 'providers-linked');
    await assertNoTokenVisible(page);
  });
});
