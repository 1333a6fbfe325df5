// Register, log in, boards per role, sign out: the tutorial's journey, in the browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  assertHttpOnlySession,
  assertNoTokenVisible,
  navbarBoards,
  newPage,
  screenshot,
  signIn,
  startBrowser,
  startServer,
  expectMatch,
  expectText,
} from './harness.mjs';

describe('accounts', () => {
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

  test('home shows the public content to anyone', async () => {
    const page = await newPage(browser);
    await page.goto(server.url);
    await expectText(page, '[data-testid="content"]', 'Public Content.');
    assert.deepEqual(await navbarBoards(page), ['Home']);
    await screenshot(page, 'home');
    await assertNoTokenVisible(page);
  });

  test('register validates per field as the user types, with the rules from /api/auth/policy', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/register`);
    await page.locator('#reg-username').pressSequentially('a!');
    await expectMatch(page, '[data-testid="username-error"]', /3 to 20 characters/);
    await page.fill('#reg-username', 'bad name!');
    await expectMatch(page, '[data-testid="username-error"]', /letters, digits/);
    await page.locator('#reg-email').pressSequentially('not-an-email');
    await expectMatch(page, '[data-testid="email-error"]', /valid email/);
    await page.locator('#reg-password').pressSequentially('short');
    await expectMatch(page, '[data-testid="password-error"]', /at least 8 characters/);
    await screenshot(page, 'register-errors');
    await page.fill('#reg-username', 'carol');
    await page.fill('#reg-email', 'carol@example.com');
    await page.fill('#reg-password', PASSWORD);
    // Valid input clears every field's error.
    await page.waitForFunction(() => document.querySelectorAll('.is-invalid').length === 0, null, { timeout: 10_000 });
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="success"]', 'User registered successfully!');
    await screenshot(page, 'register-done');
    await assertNoTokenVisible(page);
  });

  test('register shows the server message when the username is taken', async () => {
    await server.signUp('dave');
    const page = await newPage(browser);
    await page.goto(`${server.url}/register`);
    await page.fill('#reg-username', 'DAVE');
    await page.fill('#reg-email', 'other-dave@example.com');
    await page.fill('#reg-password', PASSWORD);
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="error"]', 'Failed! Username is already in use!');
    await assertNoTokenVisible(page);
  });

  test('login with a wrong password shows the server message', async () => {
    await server.signUp('erin');
    const page = await newPage(browser);
    await page.goto(`${server.url}/login`);
    await page.fill('#login-username', 'erin');
    await page.fill('#login-password', 'not the password');
    await page.click('button[type="submit"]');
    await expectText(page, '[data-testid="error"]', 'Invalid username or password!');
    assert.match(page.url(), /\/login/);
    await screenshot(page, 'login-failed');
    await assertNoTokenVisible(page);
  });

  test('a user logs in by email, sees the profile and the user board only', async () => {
    await server.signUp('frank');
    const page = await newPage(browser);
    await signIn(page, server, 'frank@example.com');
    await expectText(page, '[data-testid="email"]', 'frank@example.com');
    await expectText(page, '[data-testid="roles"]', 'ROLE_USER');
    await page.locator('[data-testid="session"]').first().waitFor();
    await screenshot(page, 'profile');
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);

    assert.deepEqual(await navbarBoards(page), ['Home', 'User']);
    await page.click('text=User');
    await expectText(page, '[data-testid="content"]', 'User Content.');
    await screenshot(page, 'board-user');

    // Typing the address of a board the role does not allow is refused by the guard.
    await page.goto(`${server.url}/mod`);
    await page.locator('[data-testid="forbidden"]').waitFor();
    await screenshot(page, 'forbidden');
    await page.goto(`${server.url}/admin/users`);
    await page.locator('[data-testid="forbidden"]').waitFor();
    await assertNoTokenVisible(page);
  });

  test('an anonymous visitor of a board is sent to login, then back to the board', async () => {
    await server.signUp('gina');
    const page = await newPage(browser);
    await page.goto(`${server.url}/user`);
    await page.waitForURL(/\/login\?returnUrl=%2Fuser/);
    await screenshot(page, 'login');
    await page.fill('#login-username', 'gina');
    await page.fill('#login-password', PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/user$/);
    await expectText(page, '[data-testid="content"]', 'User Content.');
    await assertNoTokenVisible(page);
  });

  test('the admin sees every board and the admin pages', async () => {
    const page = await newPage(browser);
    await signIn(page, server, ADMIN.username, ADMIN.password);
    assert.deepEqual(await navbarBoards(page), ['Home', 'User', 'Moderator Board', 'Admin Board', 'Manage users']);
    await page.click('text=Moderator Board');
    await expectText(page, '[data-testid="content"]', 'Moderator Content.');
    await screenshot(page, 'board-moderator');
    await page.click('text=Admin Board');
    await expectText(page, '[data-testid="content"]', 'Admin Content.');
    await screenshot(page, 'board-admin');
    await assertNoTokenVisible(page);
  });

  test('sign out ends the session: the cookies are gone and the boards too', async () => {
    await server.signUp('hank');
    const page = await newPage(browser);
    await signIn(page, server, 'hank');
    await page.click('button:has-text("Sign out")');
    await page.waitForURL(/\/login\?reason=signedout/);
    await expectText(page, '[data-testid="notice"]', "You've been signed out.");
    const cookies = await page.context().cookies();
    assert.equal(cookies.filter((c) => c.name.startsWith('portcullis_')).length, 0);
    assert.deepEqual(await navbarBoards(page), ['Home']);
    await page.goto(`${server.url}/user`);
    await page.waitForURL(/\/login\?returnUrl=/);
    await assertNoTokenVisible(page);
  });

  test('the layout works on a phone: the menu opens from the toggler', async () => {
    await server.signUp('ivy');
    const page = await newPage(browser, { phone: true });
    await signIn(page, server, 'ivy');
    const userLink = page.locator('[data-testid="boards"] a', { hasText: 'User' });
    assert.equal(await userLink.isVisible(), false, 'the menu starts collapsed on a phone');
    await page.click('button.navbar-toggler');
    await userLink.waitFor({ state: 'visible' });
    await screenshot(page, 'phone-menu');
    await userLink.click();
    await expectText(page, '[data-testid="content"]', 'User Content.');
    assert.equal(await userLink.isVisible(), false, 'the menu closes after a choice');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page scrolls sideways on a phone (${width}px)`);
    await screenshot(page, 'phone-board');
    await assertNoTokenVisible(page);
  });
});
