// The web app's shell, in the browser at a desktop's size (1280x800) and a phone's
// (390x844): the user menu (signed out, a user, an admin), the account console's pages from
// its navigation, the demo's boards, the 404 page, the login page naming the application a
// sign-in is for, the consent page with the user's own values, sign-up landing on login, and
// passkey autofill (Chromium's virtual authenticator answering the page's conditional request).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  adminCookies,
  apiUrl,
  assertNoSidewaysScroll,
  assertHttpOnlySession,
  assertNoTokenVisible,
  cli,
  conditionalPasskeyRequests,
  demoTabs,
  expectText,
  holdConditionalPasskeyRequests,
  openUserMenu,
  pageAt,
  pkce,
  screenshot,
  signIn,
  signOutFromMenu,
  startBrowser,
  startServer,
  userMenuItems,
  addVirtualAuthenticator,
} from './harness.mjs';

const SIZES = [
  { name: 'desktop', phone: false },
  { name: 'phone', phone: true },
];

/** Creates an account from the command line, with `roles`. */
function createUser(server, username, roles) {
  const args = ['user', 'create', '--username', username, '--email', `${username}@example.com`, '--password-stdin'];
  for (const role of roles) args.push('--role', role);
  cli(server, args, `${PASSWORD}\n`);
}

describe('the shell: menu, consoles, demo, 404, sign-in pages', () => {
  let server;
  let browser;
  let client;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    createUser(server, 'molly', ['user', 'moderator']);
    const res = await fetch(apiUrl(server, '/api/admin/clients'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: await adminCookies(server) },
      body: JSON.stringify({
        name: 'Acme Notes',
        redirectUris: ['http://127.0.0.1:9/cb'],
        scopes: ['openid', 'profile', 'email', 'roles'],
      }),
    });
    assert.equal(res.status, 201, `the client: ${await res.clone().text()}`);
    client = await res.json();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const size of SIZES) {
    test(`the menu, signed out, as a user and as an admin (${size.name})`, async () => {
      const page = await pageAt(browser, size);
      await page.goto(server.url);
      // Signed out: the ways in, on the navbar and on the landing page; no menu.
      await page.locator('[data-testid="nav-sign-in"]').waitFor();
      assert.equal(await page.getAttribute('[data-testid="nav-sign-in"]', 'href'), '/login');
      assert.equal(await page.getAttribute('[data-testid="nav-sign-up"]', 'href'), '/register');
      assert.equal(await page.locator('[data-testid="user-menu-button"]').count(), 0);
      await expectText(page, '[data-testid="brand-name"]', 'Portcullis');
      await page.locator('[data-testid="home-sign-in"]').waitFor();
      // The demo stays out of the product's way: nothing of it on the navbar.
      assert.equal(await page.locator('nav[aria-label="Main"] a[href^="/demo"]').count(), 0);
      await assertNoSidewaysScroll(page, 'the signed-out home');
      await screenshot(page, `consoles-home-${size.name}`);

      // A user: Account, Demo, Sign out; the menu is a disclosure that closes on Escape
      // (the focus back on its button) and on a click elsewhere.
      await signIn(page, server, 'molly');
      const button = page.locator('[data-testid="user-menu-button"]');
      await expectText(page, '[data-testid="nav-profile"]', 'molly');
      assert.equal(await button.getAttribute('aria-expanded'), 'false');
      assert.deepEqual(await userMenuItems(page), ['Account', 'Demo', 'Sign out']);
      assert.equal(await button.getAttribute('aria-expanded'), 'true');
      await screenshot(page, `consoles-menu-${size.name}`);
      await page.keyboard.press('Escape');
      await page.locator('#user-menu.show').waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'user-menu-button', 'the focus is back on the button');
      // The keyboard opens it at its first item.
      await page.keyboard.press('ArrowDown');
      await page.locator('#user-menu.show').waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'menu-account');
      await page.mouse.click(5, 400);
      await page.locator('#user-menu.show').waitFor({ state: 'detached' });
      await assertNoSidewaysScroll(page, 'the account page with the menu');
      await signOutFromMenu(page);
      await page.waitForURL(/\/login\?reason=signedout$/);

      // An admin: the admin console too, which opens on its users.
      await signIn(page, server, ADMIN.username, ADMIN.password);
      assert.deepEqual(await userMenuItems(page), ['Account', 'Admin console', 'Demo', 'Sign out']);
      await screenshot(page, `consoles-menu-admin-${size.name}`);
      await page.click('[data-testid="menu-admin"]');
      await page.waitForURL(/\/admin\/users$/);
      await page.goto(`${server.url}/`);
      await expectText(page, '[data-testid="home-signed-in"]', 'Signed in as admin.');
      assert.equal(await page.getAttribute('[data-testid="home-admin"]', 'href'), '/admin');
      await assertNoTokenVisible(page);
    });

    test(`the account console's pages, each from its navigation (${size.name})`, async () => {
      const page = await pageAt(browser, size);
      await signIn(page, server, 'molly');
      await page.locator('[data-testid="role"]').first().waitFor();
      assert.deepEqual((await page.locator('[data-testid="role"]').allTextContents()).map((t) => t.trim()), ['User', 'Moderator']);
      assert.doesNotMatch(await page.locator('main').textContent(), /ROLE_/);
      const pages = [
        ['account-nav-security', '/account/security', 'Security', '[data-testid="passkeys-card"]'],
        ['account-nav-sessions', '/account/sessions', 'Sessions', '[data-testid="session"]'],
        ['account-nav-apps', '/account/apps', 'Connected apps', '[data-testid="connected-apps-card"]'],
        ['account-nav-linked', '/account/linked', 'Linked sign-ins', '[data-testid="linked-signins-card"]'],
        ['account-nav-api-keys', '/account/api-keys', 'API keys', '[data-testid="api-keys-card"]'],
        ['account-nav-profile', '/account', 'Profile', '[data-testid="username"]'],
      ];
      for (const [link, path, heading, content] of pages) {
        await page.click(`[data-testid="${link}"]`);
        await page.waitForURL((url) => url.pathname === path);
        await expectText(page, 'main h1', heading);
        await page.locator(content).first().waitFor();
        assert.equal(await page.getAttribute(`[data-testid="${link}"]`, 'aria-current'), 'page', `${link} is the current page`);
        assert.equal(await page.locator('[data-testid="account-nav"] [aria-current="page"]').count(), 1);
        assert.equal(await page.title(), `${heading} · Portcullis`);
        await assertNoSidewaysScroll(page, path);
        await screenshot(page, `consoles-${path.slice(1).replace(/\//g, '-')}-${size.name}`);
      }
      // The old address (mails, bookmarks) is the console.
      await page.goto(`${server.url}/profile`);
      await page.waitForURL((url) => url.pathname === '/account');
      await expectText(page, '[data-testid="username"]', 'molly');
      await assertNoTokenVisible(page);
    });

    test(`the demo's boards, by role (${size.name})`, async () => {
      const page = await pageAt(browser, size);
      await page.goto(`${server.url}/demo`);
      await expectText(page, '[data-testid="content"]', 'Public Content.');
      assert.deepEqual(await demoTabs(page), ['Public']);

      await signIn(page, server, 'molly');
      await openUserMenu(page);
      await page.click('[data-testid="menu-demo"]');
      await page.waitForURL((url) => url.pathname === '/demo');
      assert.deepEqual(await demoTabs(page), ['Public', 'User', 'Moderator']);
      await page.click('[data-testid="demo-tabs"] a:has-text("Moderator")');
      await page.waitForURL((url) => url.pathname === '/demo/mod');
      await expectText(page, '[data-testid="content"]', 'Moderator Content.');
      assert.equal(await page.getAttribute('[data-testid="demo-tabs"] a:has-text("Moderator")', 'aria-current'), 'page');
      await assertNoSidewaysScroll(page, 'the demo');
      await screenshot(page, `consoles-demo-${size.name}`);
      // The tutorial's addresses lead to the demo; its admin board is not molly's.
      await page.goto(`${server.url}/mod`);
      await page.waitForURL((url) => url.pathname === '/demo/mod');
      await expectText(page, '[data-testid="content"]', 'Moderator Content.');
      await page.goto(`${server.url}/demo/admin`);
      await page.locator('[data-testid="forbidden"]').waitFor();
      await assertNoTokenVisible(page);
    });

    test(`an unknown address is a 404 page, not home (${size.name})`, async () => {
      const page = await pageAt(browser, size);
      await page.goto(`${server.url}/no/such/page?x=1`);
      await expectText(page, 'main h1', 'Page not found');
      await expectText(page, '[data-testid="not-found-path"]', '/no/such/page');
      assert.equal(new URL(page.url()).pathname, '/no/such/page', 'the address stays');
      assert.equal(await page.title(), 'Page not found · Portcullis');
      await page.click('[data-testid="not-found"] a:has-text("home page")');
      await page.waitForURL((url) => url.pathname === '/');
      await expectText(page, '[data-testid="home-title"]', 'Portcullis');
      await page.goBack();
      await expectText(page, 'main h1', 'Page not found');
      await assertNoSidewaysScroll(page, 'the 404 page');
      await screenshot(page, `consoles-not-found-${size.name}`);
    });

    test(`an application's sign-in: the login page names it; the consent page shows the user's own values (${size.name})`, async () => {
      const page = await pageAt(browser, size);
      const { challenge } = pkce();
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: 'http://127.0.0.1:9/cb',
        scope: 'openid profile email roles',
        state: 'st',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      await page.goto(`${server.url}/api/oauth/authorize?${params}`);
      await page.waitForURL((url) => url.pathname === '/login');
      await expectText(page, '[data-testid="login-heading"]', 'Sign in to Acme Notes with Portcullis');
      assert.equal(await page.title(), 'Sign in · Portcullis');
      await assertNoSidewaysScroll(page, 'the login page');
      await screenshot(page, `consoles-login-app-${size.name}`);

      await page.fill('#login-username', 'molly');
      await page.fill('#login-password', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.pathname === '/oauth/consent');
      await expectText(page, '[data-testid="consent-title"]', 'Acme Notes wants to use your Portcullis account');
      const value = (scope) => `[data-scope="${scope}"] [data-testid="consent-scope-value"]`;
      await expectText(page, value('profile'), 'molly');
      await expectText(page, `${value('email')} .text-break`, 'molly@example.com');
      // Her own roles, by name: not every role there is.
      assert.deepEqual(
        (await page.locator('[data-testid="consent-role"]').allTextContents()).map((t) => t.trim()),
        ['User', 'Moderator'],
      );
      assert.doesNotMatch(await page.locator('[data-testid="consent-scopes"]').textContent(), /Admin|ROLE_/);
      await assertNoSidewaysScroll(page, 'the consent page');
      await screenshot(page, `consoles-consent-${size.name}`);
      await assertNoTokenVisible(page);
    });

    test(`sign-up lands on the login page with the username filled in (${size.name})`, async () => {
      const username = `nadia-${size.name}`;
      const page = await pageAt(browser, size);
      await page.goto(`${server.url}/register`);
      await expectText(page, '[data-testid="register-heading"]', 'Sign up for Portcullis');
      await page.fill('#reg-username', username);
      await page.fill('#reg-email', `${username}@example.com`);
      await page.fill('#reg-password', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL(/\/login\?reason=registered$/);
      await expectText(page, '[data-testid="notice"]', 'Account created. Sign in to continue.');
      assert.equal(await page.inputValue('#login-username'), username);
      await screenshot(page, `consoles-signed-up-${size.name}`);
      await page.fill('#login-password', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.pathname === '/account');
      await expectText(page, '[data-testid="username"]', username);
    });
  }

  test('a sign-up for an application keeps the way back to it', async () => {
    const page = await pageAt(browser, SIZES[0]);
    const { challenge } = pkce();
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: 'http://127.0.0.1:9/cb',
      scope: 'openid profile',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await page.goto(`${server.url}/api/oauth/authorize?${params}`);
    await page.waitForURL((url) => url.pathname === '/login');
    await page.click('[data-testid="to-register"]');
    await page.waitForURL((url) => url.pathname === '/register' && url.searchParams.has('returnUrl'));
    await page.fill('#reg-username', 'oscar');
    await page.fill('#reg-email', 'oscar@example.com');
    await page.fill('#reg-password', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('reason') === 'registered');
    await expectText(page, '[data-testid="login-heading"]', 'Sign in to Acme Notes with Portcullis');
    assert.equal(await page.inputValue('#login-username'), 'oscar');
    await page.fill('#login-password', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.pathname === '/oauth/consent');
    await expectText(page, '[data-testid="consent-title"]', 'Acme Notes wants to use your Portcullis account');
  });

  describe('passkey autofill on the login page', () => {
    /**
     * Signs `username` in with the password and adds a passkey on the Security page, then
     * forgets the session in this browser (its cookies). Not Sign out: the login page it
     * lands on would start an autofill request the authenticator may answer at once.
     */
    async function addPasskey(page, username) {
      await signIn(page, server, username);
      await page.click('[data-testid="account-nav-security"]');
      await page.fill('#passkey-name', 'This laptop');
      await page.click('[data-testid="add-passkey"]');
      await expectText(page, '[data-testid="passkeys-notice"]', 'Passkey “This laptop” added.');
      await page.context().clearCookies();
    }

    for (const size of SIZES) {
      test(`a discoverable passkey signs in from the username field's autofill (${size.name})`, async () => {
        const username = `pia-${size.name}`;
        await server.signUp(username);
        const page = await pageAt(browser, size);
        await addVirtualAuthenticator(page, { presence: true });
        await addPasskey(page, username);

        // A fresh load of the login page: its conditional request starts at once, and the
        // authenticator offers the passkey in the field's autofill; picking it (here the
        // virtual authenticator answers as soon as the field has the focus) signs in, with
        // no button pressed and nothing typed.
        const started = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/signin/start'));
        const finished = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/signin/finish'));
        await page.goto(`${server.url}/login`);
        assert.equal(await page.getAttribute('#login-username', 'autocomplete'), 'username webauthn');
        await page.focus('#login-username').catch(() => undefined);
        assert.equal((await started).status(), 200);
        assert.equal((await finished).status(), 200);
        await page.waitForURL((url) => url.pathname === '/account');
        await expectText(page, '[data-testid="username"]', username);
        assert.equal(await page.locator('[data-testid="error"]').count(), 0);
        await assertHttpOnlySession(page);
        await page.click('[data-testid="account-nav-sessions"]');
        const method = page.locator('[data-testid="session"]', { hasText: 'This device' }).locator('[data-testid="session-method"]');
        await method.waitFor();
        assert.equal((await method.textContent()).trim(), 'Passkey');
        await screenshot(page, `consoles-passkey-autofill-${size.name}`);
        await assertNoTokenVisible(page);
      });
    }

    test('the button ends the waiting autofill request and signs in itself; leaving ends it too, silently', async () => {
      await server.signUp('quincy');
      const page = await pageAt(browser, SIZES[0]);
      await addVirtualAuthenticator(page, { presence: true });
      // Held, so that the virtual authenticator cannot answer the quiet request first.
      await holdConditionalPasskeyRequests(page);
      await addPasskey(page, 'quincy');

      await page.goto(`${server.url}/login`);
      await page.waitForFunction(() => window.__conditionalPasskeyRequests.length === 1);
      assert.deepEqual(await conditionalPasskeyRequests(page), [{ aborted: false, hasChallenge: true }], 'one request waits');
      // Leaving the page ends it, with no error shown anywhere.
      await page.click('[data-testid="to-register"]');
      await page.waitForURL((url) => url.pathname === '/register');
      assert.deepEqual(await conditionalPasskeyRequests(page), [{ aborted: true, hasChallenge: true }]);
      await page.goBack();
      await page.waitForURL((url) => url.pathname === '/login');
      await page.waitForFunction(() => window.__conditionalPasskeyRequests.length === 2);
      assert.equal(await page.locator('[data-testid="error"]').count(), 0, 'an ended autofill request is silent');

      await page.click('[data-testid="passkey-signin"]');
      await page.waitForURL((url) => url.pathname === '/account');
      await expectText(page, '[data-testid="username"]', 'quincy');
      assert.deepEqual(
        await conditionalPasskeyRequests(page),
        [
          { aborted: true, hasChallenge: true },
          { aborted: true, hasChallenge: true },
        ],
        'the button ended the waiting request before its own',
      );
      await assertNoTokenVisible(page);
    });
  });
});

/** A 1x1 PNG, as a logo's bytes. */
const LOGO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe('branding, as an admin sets it', () => {
  let server;
  let browser;
  let client;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    const cookie = await adminCookies(server);
    const settings = await fetch(apiUrl(server, '/api/admin/branding'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({
        productName: 'Acme ID',
        primaryColor: '#7a1fa2',
        footerLink: { text: 'Privacy', url: 'https://example.com/privacy' },
      }),
    });
    assert.equal(settings.status, 200, `the branding: ${await settings.clone().text()}`);
    const logo = await fetch(apiUrl(server, '/api/admin/branding/logo'), {
      method: 'PUT',
      headers: { 'content-type': 'image/png', cookie },
      body: LOGO_PNG,
    });
    assert.equal(logo.status, 200, `the logo: ${await logo.clone().text()}`);
    assert.match((await logo.json()).logoUrl, /^\/api\/branding\/logo/);
    const res = await fetch(apiUrl(server, '/api/admin/clients'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ name: 'Acme Notes', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['openid', 'profile'] }),
    });
    assert.equal(res.status, 201);
    client = await res.json();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The logo is shown, loaded (the policy allowed it), and decorative (empty alt). */
  async function assertLogo(page, where) {
    const logo = page.locator(`${where} img[data-testid="brand-logo"]`).first();
    await logo.waitFor();
    assert.match(await logo.getAttribute('src'), /^\/api\/branding\/logo/);
    assert.equal(await logo.getAttribute('alt'), '');
    await page.waitForFunction((sel) => document.querySelector(sel)?.naturalWidth > 0, `${where} img[data-testid="brand-logo"]`);
  }

  /** A Bootstrap primary button in the brand's colour, with white text (it reads on it). */
  async function assertPrimaryButton(page, selector) {
    await page.locator(selector).first().waitFor();
    const { background, color } = await page.locator(selector).first().evaluate((el) => {
      const style = getComputedStyle(el);
      return { background: style.backgroundColor, color: style.color };
    });
    assert.equal(background, 'rgb(122, 31, 162)', `${selector}'s background`);
    assert.equal(color, 'rgb(255, 255, 255)', `${selector}'s text`);
  }

  for (const size of SIZES) {
    test(`the name, logo, colour and footer link on home, login, sign-up and consent (${size.name})`, async () => {
      const page = await pageAt(browser, size);
      await page.goto(server.url);
      // The navbar and the landing page.
      await expectText(page, '[data-testid="brand-name"]', 'Acme ID');
      await assertLogo(page, '[data-testid="brand"]');
      await expectText(page, '[data-testid="home-title"]', 'Acme ID');
      await assertLogo(page, 'main');
      assert.equal(await page.title(), 'Acme ID');
      await assertPrimaryButton(page, '[data-testid="home-sign-in"]');
      const footer = page.locator('[data-testid="footer-link"]');
      assert.equal((await footer.textContent()).trim(), 'Privacy');
      assert.equal(await footer.getAttribute('href'), 'https://example.com/privacy');
      assert.equal(await footer.getAttribute('rel'), 'noopener');
      await assertNoSidewaysScroll(page, 'the branded home');
      await screenshot(page, `consoles-branding-home-${size.name}`);

      await page.goto(`${server.url}/login`);
      await expectText(page, '[data-testid="login-heading"]', 'Sign in to Acme ID');
      await assertLogo(page, 'main');
      assert.equal(await page.title(), 'Sign in · Acme ID');
      await assertPrimaryButton(page, 'main button[type="submit"]');
      await screenshot(page, `consoles-branding-login-${size.name}`);

      await page.goto(`${server.url}/register`);
      await expectText(page, '[data-testid="register-heading"]', 'Sign up for Acme ID');
      await assertLogo(page, 'main');
      assert.equal(await page.title(), 'Sign up · Acme ID');
      await screenshot(page, `consoles-branding-register-${size.name}`);

      // An application's sign-in: the login page and the consent page name both.
      const { challenge } = pkce();
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: 'http://127.0.0.1:9/cb',
        scope: 'openid profile',
        state: 'st',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      await page.goto(`${server.url}/api/oauth/authorize?${params}`);
      await expectText(page, '[data-testid="login-heading"]', 'Sign in to Acme Notes with Acme ID');
      await page.fill('#login-username', ADMIN.username);
      await page.fill('#login-password', ADMIN.password);
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.pathname === '/oauth/consent');
      await expectText(page, '[data-testid="consent-title"]', 'Acme Notes wants to use your Acme ID account');
      await assertLogo(page, '[data-testid="consent"]');
      await assertPrimaryButton(page, '[data-testid="consent-allow"]');
      assert.equal(await page.title(), 'Allow access · Acme ID');
      await assertNoSidewaysScroll(page, 'the branded consent page');
      await screenshot(page, `consoles-branding-consent-${size.name}`);
      await assertNoTokenVisible(page);
    });
  }
});
