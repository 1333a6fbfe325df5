// Recovery and proof of address by mail, in the browser, against a real SMTP server (the
// repository's catcher, tests/mail/catcher.py): a forgotten password reset by the mailed
// link, a dead link, the "not verified" banner and its link, a sign-in link, an address
// change, and sign-in held until the address is verified. Every link is read from the mail
// as it arrived and opened as a user would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  assertHttpOnlySession,
  assertNoTokenVisible,
  expectMatch,
  expectText,
  linkIn,
  mailTestsSkip,
  newPage,
  screenshot,
  signIn,
  sleep,
  startBrowser,
  startMailCatcher,
  startServer,
} from './harness.mjs';

const NEW_PASSWORD = 'Correct-horse-battery-9';
const DEAD_LINK = 'This link is invalid or has expired.';
const skip = mailTestsSkip();

/** POST `path` with a JSON body straight to the server (as a script would), not through the UI. */
async function post(server, path, body) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('recovery by mail', { skip }, () => {
  let mail;
  let server;
  let browser;
  before(async () => {
    mail = await startMailCatcher();
    server = await startServer({ PORTCULLIS_SMTP_URL: mail.smtpUrl, PORTCULLIS_MAGIC_LINKS: 'true' });
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await mail?.stop();
  });

  test('forgot password: the mailed link sets a new password, which then signs in', async () => {
    await server.signUp('rita');
    const page = await newPage(browser);
    await page.goto(`${server.url}/login`);
    await page.click('[data-testid="forgot-password"]');
    await page.waitForURL(/\/forgot-password$/);
    await page.locator('#link-email').pressSequentially('rita@');
    await page.locator('#link-email').blur();
    await expectText(page, '[data-testid="email-error"]', 'Email must be a valid email address.');
    await page.fill('#link-email', 'rita@example.com');
    await page.waitForFunction(() => document.querySelectorAll('.is-invalid').length === 0, null, { timeout: 10_000 });
    await sleep(300); // Bootstrap's border transition
    await screenshot(page, 'forgot-password');
    await page.click('button[type="submit"]');
    await expectText(
      page,
      '[data-testid="success"]',
      'If an account has this address, a link to reset its password is on its way.',
    );
    await screenshot(page, 'forgot-password-sent');

    const message = await mail.waitForMail({ to: 'rita@example.com', subject: 'Reset your password' });
    const link = linkIn(message, 'reset-password');
    assert.ok(link.url.startsWith(`${server.url}/reset-password?token=`), `the link leads to this server: ${link.url}`);
    assert.ok(message.html.includes(link.url), 'the HTML part has the same link');

    await page.goto(link.url);
    await page.locator('#reset-new').pressSequentially('short');
    await expectMatch(page, '[data-testid="password-error"]', /at least 8 characters/);
    await page.fill('#reset-new', NEW_PASSWORD);
    await page.locator('#reset-confirm').pressSequentially(`${NEW_PASSWORD}x`);
    await expectText(page, '[data-testid="confirm-error"]', 'The passwords do not match.');
    await screenshot(page, 'reset-password-errors');
    await page.fill('#reset-confirm', NEW_PASSWORD);
    await page.waitForFunction(() => document.querySelectorAll('.is-invalid').length === 0, null, { timeout: 10_000 });
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="success"]', 'Your password has been changed. Sign in with the new one.');
    await screenshot(page, 'reset-password-done');
    await assertNoTokenVisible(page);

    await page.click('a:has-text("Sign in")');
    await page.waitForURL(/\/login$/);
    const old = await post(server, '/api/auth/signin', { username: 'rita', password: PASSWORD });
    assert.equal(old.status, 401, 'the old password no longer signs in');
    await signIn(page, server, 'rita', NEW_PASSWORD);
    await expectText(page, '[data-testid="email"]', 'rita@example.com');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
  });

  test('a used reset link says so and offers a new one', async () => {
    await server.signUp('sam');
    assert.equal((await post(server, '/api/auth/password-reset', { email: 'sam@example.com' })).status, 202);
    const { url, token } = linkIn(await mail.waitForMail({ to: 'sam@example.com', subject: 'Reset your password' }), 'reset-password');
    const used = await post(server, '/api/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD });
    assert.equal(used.status, 200, await used.text());

    const page = await newPage(browser);
    await page.goto(url);
    await page.fill('#reset-new', 'Another-good-passw0rd');
    await page.fill('#reset-confirm', 'Another-good-passw0rd');
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="link-error"]', DEAD_LINK);
    assert.equal(await page.locator('form').count(), 0, 'no form for a dead link');
    await screenshot(page, 'reset-password-dead');
    await page.click('a:has-text("Ask for a new link")');
    await page.waitForURL(/\/forgot-password$/);
    await page.locator('#link-email').waitFor();

    await page.goto(`${server.url}/reset-password`);
    await expectMatch(page, '[data-testid="link-error"]', /incomplete/);
    await assertNoTokenVisible(page);
  });

  test('an unverified address: the banner sends a new link, and only the newest link verifies', async () => {
    await server.signUp('tess');
    const first = linkIn(
      await mail.waitForMail({ to: 'tess@example.com', subject: 'Confirm your email address' }),
      'verify-email',
    );
    const page = await newPage(browser);
    await signIn(page, server, 'tess');
    await expectMatch(page, '[data-testid="verify-banner"]', /^Your email address is not verified\./);
    await expectText(page, '[data-testid="email-unverified"]', 'not verified');
    await page.click('[data-testid="verify-resend"]');
    await expectText(page, '[data-testid="verify-sent"]', 'A new verification link is on its way.');
    await screenshot(page, 'verify-banner');

    const second = linkIn(
      await mail.waitForMail({ to: 'tess@example.com', subject: 'Confirm your email address', count: 2 }),
      'verify-email',
    );
    assert.notEqual(second.token, first.token);
    await page.goto(first.url);
    await expectText(page, '[data-testid="error"]', DEAD_LINK);
    await screenshot(page, 'verify-email-dead');

    await page.goto(second.url);
    await expectText(page, '[data-testid="success"]', 'Your email address is verified.');
    await page.locator('[data-testid="verify-banner"]').waitFor({ state: 'detached' });
    await screenshot(page, 'verify-email-done');
    await page.click('a:has-text("Go to your account")');
    await expectText(page, '[data-testid="email-verified"]', 'verified');
    assert.equal(await page.locator('[data-testid="verify-banner"]').count(), 0);
    await assertNoTokenVisible(page);
  });

  test('a sign-in link signs in without a password, with HttpOnly cookies only', async () => {
    await server.signUp('uma');
    const page = await newPage(browser);
    await page.goto(`${server.url}/login`);
    await page.click('[data-testid="sign-in-link"]');
    await page.waitForURL(/\/sign-in-link$/);
    await page.fill('#link-email', 'uma@example.com');
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="success"]', 'If an account has this address, a sign-in link is on its way.');
    await screenshot(page, 'sign-in-link-sent');

    const { url } = linkIn(await mail.waitForMail({ to: 'uma@example.com', subject: 'Your sign-in link' }), 'magic-link');
    await page.goto(url);
    await page.waitForURL(/\/account$/);
    await expectText(page, '[data-testid="username"]', 'uma');
    // The link proved the address.
    await expectText(page, '[data-testid="email-verified"]', 'verified');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);

    // A link works once.
    const other = await newPage(browser);
    await other.goto(url);
    await expectText(other, '[data-testid="error"]', DEAD_LINK);
    await screenshot(other, 'magic-link-dead');
    assert.equal(await other.locator('[data-testid="nav-profile"]').count(), 0, 'not signed in');
  });

  test('a new address takes effect when the link mailed to it is opened', async () => {
    await server.signUp('vic');
    const page = await newPage(browser);
    await signIn(page, server, 'vic');
    await page.fill('#ce-current', 'not the password');
    await page.fill('#ce-email', 'victor@example.org');
    await page.click('button:has-text("Change email")');
    await expectText(page, '[data-testid="email-change-error"]', 'Current password is incorrect.');
    assert.match(page.url(), /\/account$/, 'a wrong password does not end the session');

    await page.fill('#ce-current', PASSWORD);
    await page.click('button:has-text("Change email")');
    await expectText(page, '[data-testid="email-change-done"]', 'A link to confirm the new address is on its way to it.');
    await screenshot(page, 'profile-change-email');
    await expectText(page, '[data-testid="email"]', 'vic@example.com', 1_000);

    const { url } = linkIn(
      await mail.waitForMail({ to: 'victor@example.org', subject: 'Confirm your new email address' }),
      'verify-email',
    );
    await page.goto(url);
    await expectText(page, '[data-testid="success"]', 'Your email address has been changed.');
    await page.click('a:has-text("Go to your account")');
    await expectText(page, '[data-testid="email"]', 'victor@example.org');
    await mail.waitForMail({ to: 'vic@example.com', subject: 'Your email address was changed' });
    await assertNoTokenVisible(page);
  });
});

describe('sign-in held until the address is verified', { skip }, () => {
  let mail;
  let server;
  let browser;
  before(async () => {
    mail = await startMailCatcher();
    server = await startServer({ PORTCULLIS_SMTP_URL: mail.smtpUrl, PORTCULLIS_REQUIRE_VERIFIED_EMAIL: 'true' });
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await mail?.stop();
  });

  test('sign up, sign-in refused with the server message, verify by the mailed link, sign in', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/register`);
    await page.fill('#reg-username', 'wendy');
    await page.fill('#reg-email', 'wendy@example.com');
    await page.fill('#reg-password', PASSWORD);
    await page.click('button[type="submit"]');
    // The login page follows, and says the address must be proved first.
    await page.waitForURL(/\/login\?reason=registered$/);
    await expectText(page, '[data-testid="notice"]', 'Account created. Open the link we mailed to your address, then sign in.');
    assert.equal(await page.inputValue('#login-username'), 'wendy');
    await page.fill('#login-password', PASSWORD);
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="error"]', 'Verify your email address first: follow the link we mailed you.');
    await screenshot(page, 'login-unverified');

    const { url } = linkIn(
      await mail.waitForMail({ to: 'wendy@example.com', subject: 'Confirm your email address' }),
      'verify-email',
    );
    await page.goto(url);
    await expectText(page, '[data-testid="success"]', 'Your email address is verified.');
    await page.click('a:has-text("Sign in")');
    await page.waitForURL(/\/login$/);
    await signIn(page, server, 'wendy');
    assert.equal(await page.locator('[data-testid="verify-banner"]').count(), 0);
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
  });
});
