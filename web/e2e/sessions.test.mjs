// Sessions, on a server in cookie-only delivery with a 2-second access lifetime: the app
// has no refresh logic and keeps working (the server refreshes the cookies); when a session
// ends elsewhere the app sends the user to login; the session list signs out remotely;
// throttled sign-ins say how long to wait.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  assertHttpOnlySession,
  assertNoTokenVisible,
  newPage,
  openAdminConsole,
  openUserMenu,
  screenshot,
  signIn,
  sleep,
  startBrowser,
  startServer,
  expectMatch,
  expectText,
} from './harness.mjs';

const ENDED = 'Your session has ended. Please sign in again.';

async function accessCookie(page) {
  return (await page.context().cookies()).find((c) => c.name === 'portcullis_access')?.value;
}

/** The demo's user board, from the user menu: a page that calls the API with the session. */
async function openUserBoard(page) {
  await openUserMenu(page);
  await page.click('[data-testid="menu-demo"]');
  await page.click('[data-testid="demo-tabs"] a:has-text("User")');
}

/** Nobody is signed in, as the navbar shows it. */
async function assertSignedOutNavbar(page) {
  await page.locator('[data-testid="nav-sign-in"]').waitFor();
  assert.equal(await page.locator('[data-testid="user-menu-button"]').count(), 0, 'the user state is cleared');
}

/** The next call the app makes finds the session over: the user lands on the login page. */
async function assertSentToLogin(page) {
  await openUserBoard(page);
  await page.waitForURL(/\/login\?reason=ended/);
  await expectText(page, '[data-testid="notice"]', ENDED);
  await assertSignedOutNavbar(page);
  await assertNoTokenVisible(page);
}

describe('sessions (cookie delivery, 2 s access lifetime)', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({
      PORTCULLIS_TOKEN_DELIVERY: 'cookie',
      PORTCULLIS_ACCESS_TTL: '2s',
      PORTCULLIS_THROTTLE_ACCOUNT_FAILURES: '3',
    });
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the app keeps working past the access lifetime: the server refreshes the cookies', async () => {
    await server.signUp('quinn');
    const page = await newPage(browser);
    const bodies = [];
    page.on('response', async (res) => {
      if (res.url().includes('/api/auth/signin')) bodies.push(await res.text());
    });
    await signIn(page, server, 'quinn');
    await assertHttpOnlySession(page);
    assert.equal(bodies.length, 1);
    assert.doesNotMatch(bodies[0], /accessToken|refreshToken|eyJ/, 'cookie delivery puts no token in the body');
    const first = await accessCookie(page);

    await sleep(3_000);
    assert.equal(await accessCookie(page), undefined, 'the access cookie has expired in the browser');
    await openUserBoard(page);
    await expectText(page, '[data-testid="content"]', 'User Content.');
    const second = await accessCookie(page);
    assert.ok(second && second !== first, 'the server set a fresh access cookie');

    await sleep(3_000);
    await openUserMenu(page);
    await page.click('[data-testid="menu-account"]');
    await page.click('[data-testid="account-nav-sessions"]');
    await page.locator('[data-testid="session"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="session"]').count(), 1, 'still one session: refreshing rotates, it does not sign in again');
    assert.match(page.url(), /\/account\/sessions$/);
    await assertNoTokenVisible(page);
  });

  test('when an admin disables the account, the app sends the user to login', async () => {
    await server.signUp('rita');
    const user = await newPage(browser);
    await signIn(user, server, 'rita');

    const admin = await newPage(browser);
    await signIn(admin, server, ADMIN.username, ADMIN.password);
    await openAdminConsole(admin);
    await admin.fill('#user-search', 'rita');
    const row = admin.locator('tr[data-username="rita"]');
    await row.locator('[data-testid="disable"]').click();
    await row.locator('[data-testid="enable"]').waitFor();
    await screenshot(admin, 'admin-disabled-user');

    await assertSentToLogin(user);
    await screenshot(user, 'login-session-ended');
    await assertNoTokenVisible(admin);
  });

  test('the session list shows every device and signs one out remotely', async () => {
    await server.signUp('sam');
    const laptop = await newPage(browser);
    const phone = await newPage(browser, { phone: true });
    await signIn(phone, server, 'sam');
    await signIn(laptop, server, 'sam');
    await laptop.goto(`${server.url}/account/sessions`);
    const sessions = laptop.locator('[data-testid="session"]');
    await sessions.nth(1).waitFor();
    assert.equal(await sessions.count(), 2);
    assert.equal(await laptop.locator('[data-testid="session"]:has-text("This device")').count(), 1);
    await screenshot(laptop, 'profile-sessions');

    await laptop
      .locator('[data-testid="session"]:not(:has-text("This device"))')
      .locator('button:has-text("Sign out this session")')
      .click();
    await laptop.waitForFunction(() => document.querySelectorAll('[data-testid="session"]').length === 1);
    await assertSentToLogin(phone);
    await screenshot(phone, 'phone-session-ended');

    // The laptop's own session is untouched.
    await openUserBoard(laptop);
    await expectText(laptop, '[data-testid="content"]', 'User Content.');
    await assertNoTokenVisible(laptop);
  });

  test('sign out everywhere ends this and every other session', async () => {
    await server.signUp('tess');
    const one = await newPage(browser);
    const two = await newPage(browser);
    await signIn(one, server, 'tess');
    await signIn(two, server, 'tess');
    await one.goto(`${server.url}/account/sessions`);
    await one.locator('[data-testid="session"]').nth(1).waitFor();
    await one.click('[data-testid="signout-all"]');
    await one.waitForURL(/\/login\?reason=signedout/);
    await assertSignedOutNavbar(one);
    await assertSentToLogin(two);
    await assertNoTokenVisible(one);
  });

  test('changing the password ends the other sessions and keeps this one', async () => {
    await server.signUp('uma');
    const here = await newPage(browser);
    const elsewhere = await newPage(browser);
    await signIn(elsewhere, server, 'uma');
    await signIn(here, server, 'uma');
    await here.click('[data-testid="account-nav-security"]');
    await here.fill('#pw-current', 'wrong password here');
    await here.fill('#pw-new', 'a-brand-new-Passw0rd');
    await here.fill('#pw-confirm', 'a-brand-new-Passw0rd');
    await here.click('button:has-text("Change password")');
    await expectText(here, '[data-testid="password-error"]', 'Current password is incorrect.');
    await here.fill('#pw-current', PASSWORD);
    await here.click('button:has-text("Change password")');
    await here.locator('[data-testid="password-done"]').waitFor();
    await screenshot(here, 'profile-password-changed');
    await assertSentToLogin(elsewhere);
    await openUserBoard(here);
    await expectText(here, '[data-testid="content"]', 'User Content.');
    await assertNoTokenVisible(here);
  });

  test('too many failed sign-ins: the throttling message says how long to wait', async () => {
    await server.signUp('vic');
    const page = await newPage(browser);
    await page.goto(`${server.url}/login`);
    await page.fill('#login-username', 'vic');
    const attempt = async (password) => {
      await page.fill('#login-password', password);
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/signin'));
      await page.click('button[type="submit"]');
      return (await answer).status();
    };
    for (let i = 0; i < 3; i++) {
      assert.equal(await attempt(`wrong-${i}-password`), 401);
      await expectText(page, '[data-testid="error"]', 'Invalid username or password!');
    }
    // Even the right password is refused now, and the message says how long to wait.
    assert.equal(await attempt(PASSWORD), 429);
    await expectMatch(page, '[data-testid="error"]', /^Too many failed sign-in attempts\. Try again later\. Please wait \d+ (minutes?|seconds?)\.$/);
    assert.match(page.url(), /\/login/);
    await screenshot(page, 'login-throttled');
    await assertNoTokenVisible(page);
  });
});
