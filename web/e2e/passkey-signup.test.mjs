// Signing up with a passkey and no password (PORTCULLIS_PASSKEY_SIGNUP): the register page
// offers the passkey first, Chromium's virtual authenticator (CDP WebAuthn domain) makes it,
// the new account lands signed in on /account, and the passkey signs in again after signing
// out; its only passkey cannot be removed. On a server without the setting the register page
// asks for a password as before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  assertHttpOnlySession,
  assertNoTokenVisible,
  expectText,
  holdConditionalPasskeyRequests,
  newPage,
  screenshot,
  signOutFromMenu,
  startBrowser,
  startServer,
  addVirtualAuthenticator,
} from './harness.mjs';

const SIZES = [
  { name: 'desktop', phone: false },
  { name: 'phone', phone: true },
];

describe('signing up with a passkey', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({ PORTCULLIS_PASSKEY_SIGNUP: 'true' });
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const size of SIZES) {
    test(`${size.name}: passkey first, signed in on /account, and the passkey signs in again`, async () => {
      const username = `pk${size.name}`;
      const page = await newPage(browser, { phone: size.phone });
      const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
      // The login page's quiet autofill request would sign in by itself: held, so that the
      // button is what signs in again.
      await holdConditionalPasskeyRequests(page);

      await page.goto(`${server.url}/register`);
      await page.locator('[data-testid="passkey-signup"]').waitFor();
      assert.equal(await page.locator('#reg-password').count(), 0, 'no password asked for the passkey');
      await expectText(page, '[data-testid="choose-password"]', 'Or choose a password');
      const buttons = (await page.locator('main button').allTextContents()).map((t) => t.trim());
      assert.deepEqual(buttons.slice(-2), ['Sign up with a passkey', 'Or choose a password'], 'the passkey comes first');
      await page.fill('#reg-username', username);
      await page.fill('#reg-email', `${username}@example.com`);
      await screenshot(page, `passkey-signup-${size.name}`);

      const started = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/signup/start'));
      const finished = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/signup/finish'));
      await page.click('[data-testid="passkey-signup"]');
      assert.equal((await started).status(), 200);
      assert.deepEqual((await started).request().postDataJSON(), { username, email: `${username}@example.com` });
      const finish = await finished;
      assert.equal(finish.status(), 201, `finish: ${await finish.text()}`);
      assert.equal(await finish.request().headerValue('x-token-delivery'), 'cookie');
      assert.deepEqual(Object.keys(finish.request().postDataJSON()), ['credential']);

      await page.waitForURL(/\/account$/);
      await expectText(page, '[data-testid="username"]', username);
      await assertHttpOnlySession(page);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0].isResidentCredential, true, 'a discoverable passkey');

      await signOutFromMenu(page);
      await page.waitForURL(/\/login\?reason=signedout/);
      await page.locator('[data-testid="passkey-signin"]').waitFor();
      await page.click('[data-testid="passkey-signin"]');
      await page.waitForURL(/\/account$/);
      await expectText(page, '[data-testid="username"]', username);
      await assertHttpOnlySession(page);

      // Its only passkey is its only way in: removing it is refused, in the server's words.
      await page.click('[data-testid="account-nav-security"]');
      await page.locator('[data-testid="passkey"]').first().waitFor();
      await page.click('[data-testid="passkey-remove"]');
      const removal = page.waitForResponse((r) => /\/api\/auth\/passkeys\/\d+$/.test(r.url()));
      await page.click('[data-testid="passkey-confirm-remove"]');
      assert.equal((await removal).status(), 409);
      await expectText(
        page,
        '[data-testid="passkeys-error"]',
        "This is the account's only way to sign in: set a password or add a passkey first.",
      );
      assert.equal(await page.locator('[data-testid="passkey"]').count(), 1);
      await assertNoTokenVisible(page);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('a closed passkey dialog leaves the form as it was, with a calm word', async () => {
    const page = await newPage(browser);
    // No authenticator answers: the page's own create() call is made to fail as a closed dialog does.
    await page.addInitScript(() => {
      navigator.credentials.create = () => Promise.reject(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError'));
    });
    await page.goto(`${server.url}/register`);
    await page.fill('#reg-username', 'quentin');
    await page.fill('#reg-email', 'quentin@example.com');
    await page.click('[data-testid="passkey-signup"]');
    await expectText(
      page,
      '[data-testid="passkey-notice"]',
      'No passkey was used: the request was cancelled or timed out. Try again when you are ready.',
    );
    assert.equal(await page.locator('[data-testid="error"]').count(), 0);
    assert.equal(await page.inputValue('#reg-username'), 'quentin');
    assert.equal(await page.inputValue('#reg-email'), 'quentin@example.com');
    assert.match(page.url(), /\/register$/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('a taken username shows on its field', async () => {
    await server.signUp('taken');
    const page = await newPage(browser);
    await addVirtualAuthenticator(page);
    await page.goto(`${server.url}/register`);
    await page.fill('#reg-username', 'taken');
    await page.fill('#reg-email', 'other-taken@example.com');
    await page.click('[data-testid="passkey-signup"]');
    await expectText(page, '[data-testid="username-error"]', 'Failed! Username is already in use!');
    assert.equal(await page.locator('[data-testid="error"]').count(), 0);
    await page.context().close();
  });
});

describe('without PORTCULLIS_PASSKEY_SIGNUP', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer();
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const size of SIZES) {
    test(`${size.name}: the register page has no passkey choice, and asks for a password`, async () => {
      const page = await newPage(browser, { phone: size.phone });
      await addVirtualAuthenticator(page);
      await page.goto(`${server.url}/register`);
      await page.locator('#reg-password').waitFor();
      assert.equal(await page.locator('[data-testid="passkey-signup"]').count(), 0);
      assert.equal(await page.locator('[data-testid="choose-password"]').count(), 0);
      assert.equal(await page.locator('[data-testid="choose-passkey"]').count(), 0);
      await expectText(page, 'button[type="submit"]', 'Sign up');
      await page.context().close();
    });
  }
});
