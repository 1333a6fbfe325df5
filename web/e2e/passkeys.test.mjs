// Passkeys and two factors in the browser: a passkey made in the account console signs in without a
// username; a TOTP app (codes computed here, RFC 6238) makes the password sign-in ask for a
// second step; a recovery code does that step too; where the sign-in is older than 10
// minutes, adding a passkey or an app asks for the password first. Chromium's virtual
// authenticator (CDP WebAuthn domain) stands in for the device.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  afterTotpStep,
  assertHttpOnlySession,
  assertNoTokenVisible,
  conditionalPasskeyRequests,
  expectText,
  holdConditionalPasskeyRequests,
  newPage,
  screenshot,
  signIn,
  signOutFromMenu,
  startBrowser,
  startServer,
  totp,
  totpStep,
  addVirtualAuthenticator,
} from './harness.mjs';

async function signUpInBrowser(page, server, username) {
  await page.goto(`${server.url}/register`);
  await page.fill('#reg-username', username);
  await page.fill('#reg-email', `${username}@example.com`);
  await page.fill('#reg-password', PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/login\?reason=registered$/);
  await expectText(page, '[data-testid="notice"]', 'Account created. Sign in to continue.');
}

/**
 * Makes every session of `username` look signed in `minutes` ago, in the server's SQLite
 * database (with Python's sqlite3, as the repository's scripts use it): the server reads
 * that time afresh whenever a factor is added or removed.
 */
function ageSessions(server, username, minutes) {
  const path = server.env.DATABASE_URL.replace(/^sqlite:\/\//, '').replace(/\?.*$/, '');
  const script = [
    'import sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1], timeout=10)',
    'n = db.execute("UPDATE sessions SET created_at = created_at - ? WHERE user_id = (SELECT id FROM users WHERE username = ?)", (int(sys.argv[3]) * 60000, sys.argv[2])).rowcount',
    'db.commit()',
    'print(n)',
  ].join('\n');
  const run = spawnSync('python3', ['-c', script, path, username, String(minutes)], { encoding: 'utf8' });
  assert.equal(run.status, 0, `ageing the sessions failed: ${run.stderr}`);
  assert.ok(Number(run.stdout) >= 1, `no session of ${username} to age`);
}

async function signOut(page) {
  await signOutFromMenu(page);
  await page.waitForURL(/\/login\?reason=signedout/);
}

/** Signs in with the password and opens the account console's Security page (passkeys, second factor). */
async function signInToSecurity(page, server, username) {
  await signIn(page, server, username);
  await page.click('[data-testid="account-nav-security"]');
  await page.locator('[data-testid="passkeys-card"]').waitFor();
}

/** This device's session, as the Sessions page says it was signed in. */
async function thisSessionMethod(page) {
  await page.click('[data-testid="account-nav-sessions"]');
  const method = page.locator('[data-testid="session"]', { hasText: 'This device' }).locator('[data-testid="session-method"]');
  await method.waitFor();
  return (await method.textContent()).trim();
}

/** Password sign-in of an account with a second factor: ends on the code step. */
async function signInToSecondStep(page, server, username) {
  await page.goto(`${server.url}/login`);
  await page.fill('#login-username', username);
  await page.fill('#login-password', PASSWORD);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/signin'));
  await page.click('button[type="submit"]');
  const res = await answer;
  assert.equal(res.status(), 200);
  const body = await res.json();
  assert.equal(body.mfaRequired, true, `the sign-in answer: ${JSON.stringify(body)}`);
  assert.equal('accessToken' in body, false);
  await expectText(page, '[data-testid="mfa-step"]', 'Two-step sign-in');
  assert.equal(
    (await page.context().cookies()).some((c) => c.name === 'portcullis_access'),
    false,
    'no session before the second step',
  );
}

/**
 * Turns on a TOTP app on the profile of the signed-in page: reads the key from the page,
 * enters a wrong code (refused, the session stays), then the code of now. The key, the ten
 * recovery codes and the step of the code used.
 */
async function enableTotp(page, shot) {
  await page.click('[data-testid="setup-totp"]');
  const secret = (await page.locator('[data-testid="totp-secret"]').textContent()).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/, 'the key is shown as 32 base32 characters');
  await page.locator('[data-testid="qr-code"]').waitFor();
  assert.match(await page.locator('[data-testid="qr-code"]').getAttribute('src'), /^data:image\/svg\+xml/);
  if (shot) await screenshot(page, shot);
  // A wrong code is a 400, not a 401: the page says so and the session goes on.
  await page.fill('#totp-code', totp(secret, Date.now()) === '000000' ? '111111' : '000000');
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/mfa/totp/confirm'));
  await page.click('[data-testid="totp-confirm"]');
  const wrong = await answer;
  assert.equal(wrong.status(), 400);
  assert.equal((await wrong.json()).code, 'mfa_code_invalid');
  await expectText(page, '[data-testid="totp-error"]', 'The code is not valid.');
  assert.match(page.url(), /\/account\/security$/, 'a wrong code does not end the session');
  const now = Date.now();
  await page.fill('#totp-code', totp(secret, now));
  await page.click('[data-testid="totp-confirm"]');
  await page.locator('[data-testid="recovery-code"]').nth(9).waitFor();
  const codes = (await page.locator('[data-testid="recovery-code"]').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const code of codes) assert.match(code, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/i);
  return { secret, codes, step: totpStep(now) };
}

describe('passkeys and two factors', () => {
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

  test('a passkey added in the account console signs in without a username; the session says Passkey', async () => {
    const page = await newPage(browser);
    await addVirtualAuthenticator(page);
    // The login page's quiet autofill request would sign in by itself (consoles.test.mjs
    // shows that): held here, so that the button is what signs in.
    await holdConditionalPasskeyRequests(page);
    await signUpInBrowser(page, server, 'paula');
    await signInToSecurity(page, server, 'paula');

    await page.fill('#passkey-name', 'Virtual key');
    await page.click('[data-testid="add-passkey"]');
    await expectText(page, '[data-testid="passkeys-notice"]', 'Passkey “Virtual key” added.');
    assert.deepEqual(
      (await page.locator('[data-testid="passkey-name"]').allTextContents()).map((t) => t.trim()),
      ['Virtual key'],
    );
    await screenshot(page, 'profile-passkey-added');
    await signOut(page);

    await page.locator('[data-testid="passkey-signin"]').waitFor();
    assert.equal(await page.inputValue('#login-username'), '', 'no username typed');
    // The sign-in page's own autofill request waits (the earlier pages' were ended as they closed).
    await page.waitForFunction(() => window.__conditionalPasskeyRequests.filter((r) => !r.aborted).length === 1);
    await page.click('[data-testid="passkey-signin"]');
    await page.waitForURL(/\/account$/);
    await expectText(page, '[data-testid="username"]', 'paula');
    const requests = await conditionalPasskeyRequests(page);
    assert.ok(requests.length >= 1 && requests.every((r) => r.aborted && r.hasChallenge), `the button ended the autofill request: ${JSON.stringify(requests)}`);
    await assertHttpOnlySession(page);
    assert.equal(await thisSessionMethod(page), 'Passkey');
    await page.click('[data-testid="account-nav-security"]');
    await page.locator('[data-testid="passkey"]:has-text("last used")').waitFor();
    await screenshot(page, 'profile-signed-in-with-passkey');
    await assertNoTokenVisible(page);
  });

  test('a sign-in older than 10 minutes: adding a passkey or an app asks for the password first', async () => {
    const page = await newPage(browser);
    await addVirtualAuthenticator(page);
    await signUpInBrowser(page, server, 'otto');
    await signInToSecurity(page, server, 'otto');
    ageSessions(server, 'otto', 11);
    const passkeys = page.locator('[data-testid="passkeys-card"]');
    const mfa = page.locator('[data-testid="mfa-card"]');

    // The passkey: register/start is refused without the password, and nothing is created.
    await page.fill('#passkey-name', 'Old laptop');
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/register/start'));
    await page.click('[data-testid="add-passkey"]');
    assert.equal((await refused).status(), 403);
    assert.equal((await (await refused).json()).code, 'reauthentication_required');
    await passkeys.locator('[data-testid="reauth"]').waitFor();
    assert.match(await passkeys.locator('[data-testid="reauth"]').textContent(), /Add the passkey “Old laptop”/);
    assert.equal(await page.locator('[data-testid="passkey"]').count(), 0);
    await screenshot(page, 'profile-passkey-reauth');

    // A wrong password keeps the prompt open with the server's words.
    await page.fill('#passkey-reauth-password', 'not-the-password');
    const wrong = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/register/start'));
    await passkeys.locator('[data-testid="reauth-confirm"]').click();
    assert.equal((await (await wrong).json()).code, 'wrong_password');
    await passkeys.locator('[data-testid="reauth-error"]').waitFor();
    assert.equal(await page.locator('[data-testid="passkey"]').count(), 0);

    // The right one: the same start again, then the browser's dialog and finish.
    await page.fill('#passkey-reauth-password', PASSWORD);
    const started = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/register/start'));
    const finished = page.waitForResponse((r) => r.url().endsWith('/api/auth/passkeys/register/finish'));
    await passkeys.locator('[data-testid="reauth-confirm"]').click();
    assert.equal((await started).status(), 200);
    assert.equal((await started).request().postDataJSON().password, PASSWORD);
    assert.equal((await finished).status(), 201);
    assert.equal('password' in ((await finished).request().postDataJSON() ?? {}), false, 'finish takes no password');
    await expectText(page, '[data-testid="passkeys-notice"]', 'Passkey “Old laptop” added.');
    assert.equal(await passkeys.locator('[data-testid="reauth"]').count(), 0);
    assert.deepEqual(
      (await page.locator('[data-testid="passkey-name"]').allTextContents()).map((t) => t.trim()),
      ['Old laptop'],
    );

    // The authenticator app: the same question, then the key.
    const setupRefused = page.waitForResponse((r) => r.url().endsWith('/api/auth/mfa/totp/setup'));
    await page.click('[data-testid="setup-totp"]');
    assert.equal((await (await setupRefused).json()).code, 'reauthentication_required');
    await mfa.locator('[data-testid="reauth"]').waitFor();
    assert.equal(await page.locator('[data-testid="totp-secret"]').count(), 0);
    await page.fill('#mfa-reauth-password', PASSWORD);
    const setup = page.waitForResponse((r) => r.url().endsWith('/api/auth/mfa/totp/setup'));
    await mfa.locator('[data-testid="reauth-confirm"]').click();
    assert.equal((await setup).status(), 200);
    const secret = (await page.locator('[data-testid="totp-secret"]').textContent()).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.equal(await mfa.locator('[data-testid="reauth"]').count(), 0);
    await page.fill('#totp-code', totp(secret, Date.now()));
    await page.click('[data-testid="totp-confirm"]');
    await page.locator('[data-testid="recovery-code"]').nth(9).waitFor();
    await assertNoTokenVisible(page);
  });

  test('with a TOTP app, a password sign-in asks for a code, and the next code signs in', async () => {
    const page = await newPage(browser);
    await signUpInBrowser(page, server, 'tobias');
    await signInToSecurity(page, server, 'tobias');
    const { secret, codes, step } = await enableTotp(page, 'profile-totp-setup');
    await screenshot(page, 'profile-totp-codes');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-codes"]')]);
    assert.equal(download.suggestedFilename(), 'portcullis-recovery-codes-tobias.txt');
    const saved = readFileSync(await download.path(), 'utf8');
    for (const code of codes) assert.ok(saved.includes(code), `the file has ${code}`);
    await page.click('[data-testid="codes-done"]');
    await expectText(page, '[data-testid="totp-on"]', 'On');
    await expectText(page, '[data-testid="recovery-left"]', '10');
    await signOut(page);

    await signInToSecondStep(page, server, 'tobias');
    const code = page.locator('#mfa-code');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    await screenshot(page, 'login-second-step');

    // A wrong code is refused, and the step stays.
    const right = totp(secret, Date.now());
    await page.fill('#mfa-code', right === '000000' ? '111111' : '000000');
    await page.click('[data-testid="mfa-verify"]');
    await expectText(page, '[data-testid="mfa-error"]', 'The code is not valid.');

    // The code of enrolment was accepted: the server takes only a later step's.
    const later = await afterTotpStep(step);
    await page.fill('#mfa-code', totp(secret, later));
    await page.click('[data-testid="mfa-verify"]');
    await page.waitForURL(/\/account$/);
    await expectText(page, '[data-testid="username"]', 'tobias');
    assert.equal(await thisSessionMethod(page), 'Password + authenticator app');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);
  });

  test('a recovery code completes the second step, once', async () => {
    const page = await newPage(browser);
    await signUpInBrowser(page, server, 'rosa');
    await signInToSecurity(page, server, 'rosa');
    const { codes } = await enableTotp(page);
    await page.click('[data-testid="codes-done"]');
    await signOut(page);

    await signInToSecondStep(page, server, 'rosa');
    await page.click('[data-testid="mfa-use-recovery"]');
    await page.fill('#mfa-recovery-code', codes[0].toUpperCase());
    await page.click('[data-testid="mfa-verify"]');
    await page.waitForURL(/\/account$/);
    await page.click('[data-testid="account-nav-security"]');
    await expectText(page, '[data-testid="recovery-left"]', '9');
    await signOut(page);

    // The same code again is refused.
    await signInToSecondStep(page, server, 'rosa');
    await page.click('[data-testid="mfa-use-recovery"]');
    await page.fill('#mfa-recovery-code', codes[0]);
    await page.click('[data-testid="mfa-verify"]');
    await expectText(page, '[data-testid="mfa-error"]', 'The code is not valid.');
    await assertNoTokenVisible(page);
  });
});
