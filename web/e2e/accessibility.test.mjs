// Accessibility in the browser: every page of the app, in every language and at both screen
// sizes, has no serious or critical axe-core violation (pages in the states a user meets:
// errors shown, the user menu and the admin's "Rights" panel opened, the edit forms); and
// with the keyboard alone (Tab, Enter, Space, typing; the mouse never moves) a user signs in
// with a password, with a passkey, and with the second step of a TOTP app, seeing where the
// focus is at each stop, and opens and closes the user menu.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  adminCookies,
  afterTotpStep,
  apiUrl,
  axeViolations,
  expectText,
  holdConditionalPasskeyRequests,
  newPage,
  openUserMenu,
  screenshot,
  signIn,
  startBrowser,
  startServer,
  totp,
  totpStep,
  addVirtualAuthenticator,
} from './harness.mjs';

// The languages the pages are checked in: English and German, the longer one (Spanish shares
// every layout with them; languages.test.mjs checks that it is spoken).
const LANGUAGES = ['en', 'de'];
const SCREENS = [
  { name: 'desktop', phone: false },
  { name: 'phone', phone: true },
];

/** The relying party's callback: never reached, the browser's visit to it is answered here. */
const REDIRECT_URI = 'http://127.0.0.1:59999/cb';
const POST_LOGOUT_URI = 'http://127.0.0.1:59999/';

/** A JSON request to the server's API from outside the browser; the answer's body. */
async function api(server, method, path, body, cookie, want = [200, 201]) {
  const res = await fetch(apiUrl(server, path), {
    method,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(want.includes(res.status), `${method} ${path}: ${res.status} ${text}`);
  return { body: text ? JSON.parse(text) : null, cookie: res.headers.getSetCookie().map((l) => l.split(';')[0]).join('; ') };
}

/** Signs `username` up and turns a TOTP app on for it; its key and the step of the code used. */
async function signUpWithTotp(server, username) {
  await server.signUp(username);
  const { cookie } = await api(server, 'POST', '/api/auth/signin', { username, password: PASSWORD });
  const { body } = await api(server, 'POST', '/api/auth/mfa/totp/setup', {}, cookie);
  const now = Date.now();
  await api(server, 'POST', '/api/auth/mfa/totp/confirm', { code: totp(body.secret, now) }, cookie);
  return { secret: body.secret, step: totpStep(now) };
}

/**
 * The admin's fixtures, so that the admin pages have rows to show and edit: a permission, a
 * role that gives it, a group that carries the role with `member` in it, a confidential
 * OpenID Connect client (returned) and an identity provider.
 */
async function adminFixtures(server, member) {
  const cookie = await adminCookies(server);
  await api(server, 'POST', '/api/admin/permissions', { name: 'invoices:write', description: 'Write invoices' }, cookie);
  await api(server, 'POST', '/api/admin/roles', { name: 'billing', description: 'Sends invoices', permissions: ['invoices:write'] }, cookie);
  await api(server, 'POST', '/api/admin/groups', { name: 'finance', description: 'Pays', roles: ['billing'] }, cookie);
  const { body: users } = await api(server, 'GET', '/api/admin/users', undefined, cookie);
  const id = users.items.find((u) => u.username === member).id;
  await api(server, 'PUT', `/api/admin/groups/finance/members/${id}`, undefined, cookie, [204]);
  const { body: client } = await api(
    server,
    'POST',
    '/api/admin/clients',
    { name: 'E2E Notes', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] },
    cookie,
  );
  await api(
    server,
    'POST',
    '/api/admin/providers',
    { id: 'gh', kind: 'github', displayName: 'GitHub', clientId: 'portcullis', clientSecret: 'not-a-secret' },
    cookie,
  );
  return { id: client.clientId, secret: client.clientSecret };
}

/** An authorization request of `client` (PKCE S256): its URL and verifier. */
function authorization(server, client) {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    state: 'a11y',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    // The page asks again, though the user allowed the client at the other screen size.
    prompt: 'consent',
  });
  return { url: `${server.url}/api/oauth/authorize?${params}`, verifier };
}

/** Waits for the page to settle: its requests answered and its main heading shown. */
async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.locator('h1').first().waitFor();
}

/**
 * Fails, with a screenshot, when axe-core finds a serious or critical violation on the page as
 * it is: the message names each rule and the elements that break it.
 */
async function assertAccessible(page, name) {
  const violations = await axeViolations(page);
  if (violations.length === 0) return;
  const file = await screenshot(page, `a11y-failed-${name}`);
  const said = violations
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    at ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`).join('\n')}`)
    .join('\n');
  assert.fail(`${name}: ${violations.length} serious or critical axe violations (screenshot ${file}):\n${said}`);
}

/** Visits `path` and checks it, in the language the page was switched to. */
async function checkPage(page, server, path, name) {
  await page.goto(`${server.url}${path}`);
  await settle(page);
  assert.equal(await page.getAttribute('html', 'lang'), page.language ?? 'en', `${name}: the page's language`);
  await assertAccessible(page, name);
}

/** Switches the page's language to `language`, as the footer's picker would (its cookie). */
async function useLanguage(page, server, language) {
  page.language = language;
  await page.context().addCookies([{ name: 'portcullis_locale', value: language, url: server.url }]);
}

/** Where the focus is, and whether it shows: an outline or a box shadow that is not `none`. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return {
      what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.dataset.testid ? `[data-testid="${el.dataset.testid}"]` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`,
      visible: outline || style.boxShadow !== 'none',
      style: `outline: ${style.outlineStyle} ${style.outlineWidth}; box-shadow: ${style.boxShadow}`,
    };
  });
}

/** Fails unless the focus is on `selector` and shows. */
async function assertFocusShown(page, selector) {
  const now = await focused(page);
  assert.ok(now, `the focus is nowhere, not on ${selector}`);
  assert.ok(await page.evaluate((sel) => document.activeElement?.matches(sel), selector), `the focus is on ${now.what}, not on ${selector}`);
  assert.ok(now.visible, `the focus on ${now.what} does not show (${now.style})`);
}

/**
 * Presses Tab until the focus is on `selector` (at most `max` times), checking at every stop
 * on the way that the focus shows: the keyboard user sees each element they pass.
 */
async function tabTo(page, selector, max = 40) {
  const passed = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    if (!now) {
      passed.push('(nothing)');
      continue;
    }
    assert.ok(now.visible, `the focus on ${now.what} does not show (${now.style}), tabbing to ${selector}`);
    if (await page.evaluate((sel) => document.activeElement?.matches(sel), selector)) return;
    passed.push(now.what);
  }
  assert.fail(`${selector} not reached in ${max} Tabs; passed ${passed.join(', ')}`);
}

/** On the login page, with the keyboard: Tab to the username, type it, the password, Enter. */
async function typeCredentials(page, username) {
  await tabTo(page, '#login-username');
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await assertFocusShown(page, '#login-password');
  await page.keyboard.type(PASSWORD);
  await tabTo(page, 'button[type="submit"]');
  await page.keyboard.press('Enter');
}

/** The flow ended signed in: the account console's profile page, for `username`. */
async function assertSignedIn(page, username) {
  await page.waitForURL(/\/account$/);
  await expectText(page, '[data-testid="username"]', username);
}

describe('accessibility (axe-core)', () => {
  let server;
  let browser;
  let client;
  let totpUsers;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    await server.signUp('ada');
    client = await adminFixtures(server, 'ada');
    totpUsers = {};
    for (const screen of SCREENS) totpUsers[screen.name] = await signUpWithTotp(server, `tess-${screen.name}`);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const language of LANGUAGES) {
    for (const screen of SCREENS) {
      const tag = `${language}-${screen.name}`;

      test(`${tag}: the pages of a visitor who is not signed in`, async (t) => {
        const page = await newPage(browser, { phone: screen.phone });
        await useLanguage(page, server, language);
        const pages = [
          ['/', 'home'],
          ['/login', 'login'],
          ['/register', 'register'],
          ['/forgot-password', 'forgot-password'],
          ['/sign-in-link', 'sign-in-link'],
          ['/reset-password?token=x', 'reset-password'],
          ['/verify-email?token=x', 'verify-email'],
          ['/magic-link?token=x', 'magic-link'],
          ['/oauth/logout', 'oauth-logout-incomplete'],
          ['/demo', 'demo'],
          ['/forbidden', 'forbidden'],
          ['/no-such-page', 'not-found'],
        ];
        for (const [path, name] of pages) {
          await t.test(name, () => checkPage(page, server, path, `${tag}-${name}`));
        }

        await t.test('login with an error', async () => {
          await page.goto(`${server.url}/login`);
          await page.fill('#login-username', 'ada');
          await page.fill('#login-password', 'not-the-password');
          await page.click('button[type="submit"]');
          await page.locator('[data-testid="error"]').waitFor();
          await assertAccessible(page, `${tag}-login-error`);
        });

        await t.test('register with field errors', async () => {
          await page.goto(`${server.url}/register`);
          await page.fill('#reg-username', 'a');
          await page.fill('#reg-email', 'not-an-address');
          await page.fill('#reg-password', 'short');
          await page.click('button[type="submit"]');
          await page.locator('[data-testid="username-error"]').waitFor();
          await page.locator('[data-testid="password-error"]').waitFor();
          await assertAccessible(page, `${tag}-register-errors`);
        });

        await t.test('the second step of a sign-in', async () => {
          await page.goto(`${server.url}/login`);
          await page.fill('#login-username', `tess-${screen.name}`);
          await page.fill('#login-password', PASSWORD);
          await page.click('button[type="submit"]');
          await page.locator('[data-testid="mfa-step"]').waitFor();
          await assertAccessible(page, `${tag}-second-factor`);
        });
        assert.deepEqual(page.problems, [], 'the page reported errors (a CSP refusal among them)');
        await page.context().close();
      });

      test(`${tag}: a signed-in user's pages`, async (t) => {
        const page = await newPage(browser, { phone: screen.phone });
        await useLanguage(page, server, language);
        await signIn(page, server, 'ada');
        const pages = [
          ['/', 'home-signed-in'],
          ['/account', 'account-profile'],
          ['/account/security', 'account-security'],
          ['/account/sessions', 'account-sessions'],
          ['/account/apps', 'account-apps'],
          ['/account/linked', 'account-linked'],
          ['/account/api-keys', 'account-api-keys'],
          ['/demo', 'demo-signed-in'],
          ['/demo/user', 'demo-user'],
          ['/device', 'device'],
          ['/admin/users', 'forbidden-admin'],
        ];
        for (const [path, name] of pages) {
          await t.test(name, () => checkPage(page, server, path, `${tag}-${name}`));
        }

        await t.test('the user menu opened', async () => {
          await page.goto(`${server.url}/account`);
          await settle(page);
          await openUserMenu(page);
          await assertAccessible(page, `${tag}-user-menu`);
        });

        let idToken;
        await t.test('the consent page', async () => {
          const { url, verifier } = authorization(server, client);
          // The application's callback, answered here (nothing listens there).
          await page.route(`${REDIRECT_URI}**`, (route) => route.fulfill({ contentType: 'text/html', body: '<title>RP</title>' }));
          await page.goto(url);
          await page.waitForURL(/\/oauth\/consent\?request=/);
          await page.locator('[data-testid="consent-allow"]').waitFor();
          await settle(page);
          await assertAccessible(page, `${tag}-consent`);

          // Allowed, for an ID token the logout page can be asked about.
          await page.click('[data-testid="consent-allow"]');
          await page.waitForURL((u) => u.href.startsWith(REDIRECT_URI));
          const code = new URL(page.url()).searchParams.get('code');
          const res = await fetch(apiUrl(server, '/api/oauth/token'), {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
            },
            body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
          });
          const tokens = await res.json();
          assert.equal(res.status, 200, JSON.stringify(tokens));
          idToken = tokens.id_token;
        });

        await t.test('the logout page asking', async () => {
          assert.ok(idToken, 'an ID token from the consent');
          const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: 's' });
          await page.goto(`${server.url}/oauth/logout?${query}`);
          await page.locator('[data-testid="logout-title"]').waitFor();
          await settle(page);
          await assertAccessible(page, `${tag}-oauth-logout`);
        });
        assert.deepEqual(page.problems, [], 'the page reported errors (a CSP refusal among them)');
        await page.context().close();
      });

      test(`${tag}: the admin console`, async (t) => {
        const page = await newPage(browser, { phone: screen.phone });
        await useLanguage(page, server, language);
        await signIn(page, server, ADMIN.username, ADMIN.password);
        const pages = [
          ['/admin/users', 'admin-users'],
          ['/admin/audit', 'admin-audit'],
          ['/admin/roles', 'admin-roles'],
          ['/admin/groups', 'admin-groups'],
          ['/admin/clients', 'admin-clients'],
          ['/admin/providers', 'admin-providers'],
          ['/admin/branding', 'admin-branding'],
          ['/demo/mod', 'demo-mod'],
          ['/demo/admin', 'demo-admin'],
        ];
        for (const [path, name] of pages) {
          await t.test(name, () => checkPage(page, server, path, `${tag}-${name}`));
        }

        await t.test('the Rights panel opened', async () => {
          await page.goto(`${server.url}/admin/users`);
          await settle(page);
          await page.locator('tr', { hasText: 'ada' }).locator('[data-testid="rights"]').click();
          await page.locator('[data-testid="user-rights"] [data-testid="rights-role"]').first().waitFor();
          await assertAccessible(page, `${tag}-admin-rights`);
        });

        const forms = [
          ['/admin/roles', 'tr[data-role="billing"] [data-testid="edit-role"]', 'role-edit-form'],
          ['/admin/groups', 'tr[data-group="finance"] [data-testid="edit-group"]', 'group-edit-form'],
          ['/admin/groups', 'tr[data-group="finance"] [data-testid="group-members-toggle"]', 'group-members'],
          ['/admin/clients', `tr[data-client-id="${client.id}"] [data-testid="edit-client"]`, 'client-edit-form'],
          ['/admin/providers', '[data-testid="edit-provider"]', 'provider-edit-form'],
        ];
        for (const [path, button, shown] of forms) {
          await t.test(`${path} ${shown}`, async () => {
            await page.goto(`${server.url}${path}`);
            await settle(page);
            await page.locator(button).first().click();
            if (shown !== 'group-members') await page.locator(`[data-testid="${shown}"]`).waitFor();
            await page.waitForLoadState('networkidle');
            await assertAccessible(page, `${tag}-${shown}`);
          });
        }
        assert.deepEqual(page.problems, [], 'the page reported errors (a CSP refusal among them)');
        await page.context().close();
      });
    }
  }
  for (const screen of SCREENS) {
    test(`${screen.name}, keyboard only: a password sign-in`, async () => {
      const page = await newPage(browser, { phone: screen.phone });
      await page.goto(`${server.url}/login`);
      await page.locator('#login-username').waitFor();
      await typeCredentials(page, 'ada');
      await assertSignedIn(page, 'ada');
      await page.context().close();
    });

    test(`${screen.name}, keyboard only: the user menu opens and closes`, async () => {
      const page = await newPage(browser, { phone: screen.phone });
      await signIn(page, server, 'ada');
      const button = page.locator('[data-testid="user-menu-button"]');
      await tabTo(page, '[data-testid="user-menu-button"]');
      await page.keyboard.press('Enter');
      await page.locator('#user-menu.show').waitFor();
      assert.equal(await button.getAttribute('aria-expanded'), 'true');
      // Tab goes on into the open menu's items, each showing its focus.
      await tabTo(page, '[data-testid="menu-account"]', 3);
      await page.keyboard.press('ArrowDown');
      await assertFocusShown(page, '[data-testid="menu-demo"]');
      await page.keyboard.press('Escape');
      await page.locator('#user-menu.show').waitFor({ state: 'detached' });
      assert.equal(await button.getAttribute('aria-expanded'), 'false');
      await assertFocusShown(page, '[data-testid="user-menu-button"]');
      // Space opens it too, and again closes it.
      await page.keyboard.press('Space');
      await page.locator('#user-menu.show').waitFor();
      await page.keyboard.press('Space');
      await page.locator('#user-menu.show').waitFor({ state: 'detached' });
      await assertFocusShown(page, '[data-testid="user-menu-button"]');
      await page.context().close();
    });

    test(`${screen.name}, keyboard only: a passkey sign-in`, async () => {
      const username = `paula-${screen.name}`;
      await server.signUp(username);
      const page = await newPage(browser, { phone: screen.phone });
      await addVirtualAuthenticator(page);
      // The login page's quiet autofill request would sign in by itself: held, so that the
      // button is what signs in.
      await holdConditionalPasskeyRequests(page);
      // Setting up (not the flow under test): a passkey added on the Security page.
      await signIn(page, server, username);
      await page.goto(`${server.url}/account/security`);
      await page.fill('#passkey-name', 'Virtual key');
      await page.click('[data-testid="add-passkey"]');
      await expectText(page, '[data-testid="passkeys-notice"]', 'Passkey “Virtual key” added.');
      await page.context().clearCookies();

      await page.goto(`${server.url}/login`);
      await page.locator('[data-testid="passkey-signin"]').waitFor();
      await tabTo(page, '[data-testid="passkey-signin"]');
      await page.keyboard.press('Enter');
      await assertSignedIn(page, username);
      // The Security page with a passkey listed, checked too.
      await checkPage(page, server, '/account/security', `${screen.name}-account-security-passkey`);
      await page.context().close();
    });

    test(`${screen.name}, keyboard only: a password and a TOTP code`, async () => {
      const username = `tess-${screen.name}`;
      const page = await newPage(browser, { phone: screen.phone });
      await page.goto(`${server.url}/login`);
      await page.locator('#login-username').waitFor();
      await typeCredentials(page, username);
      await expectText(page, '[data-testid="mfa-step"]', 'Two-step sign-in');
      await tabTo(page, '#mfa-code');
      // A code of a later step than the one that turned the app on (the server refuses it again).
      const { secret, step } = totpUsers[screen.name];
      await page.keyboard.type(totp(secret, await afterTotpStep(step)));
      await page.keyboard.press('Enter');
      await assertSignedIn(page, username);
      // The Security page with a TOTP app on, checked too.
      await checkPage(page, server, '/account/security', `${screen.name}-account-security-totp`);
      await page.context().close();
    });
  }
});
