// Register, log in, the demo's boards per role, sign out: the tutorial's journey, in the browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  PASSWORD,
  assertHttpOnlySession,
  assertNoTokenVisible,
  demoTabs,
  newPage,
  openUserMenu,
  signOutFromMenu,
  userMenuItems,
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

  test('home is a landing page with the ways in; the public content is the demo\'s', async () => {
    const page = await newPage(browser);
    await page.goto(server.url);
    await expectText(page, '[data-testid="home-title"]', 'Portcullis');
    assert.equal(await page.getAttribute('[data-testid="home-sign-in"]', 'href'), '/login');
    assert.equal(await page.getAttribute('[data-testid="home-sign-up"]', 'href'), '/register');
    assert.equal(await page.title(), 'Portcullis');
    await screenshot(page, 'home');
    await page.goto(`${server.url}/demo`);
    await expectText(page, '[data-testid="content"]', 'Public Content.');
    assert.deepEqual(await demoTabs(page), ['Public']);
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
    // No session comes with a sign-up: the login page follows, the username filled in.
    await page.waitForURL(/\/login\?reason=registered$/);
    await expectText(page, '[data-testid="notice"]', 'Account created. Sign in to continue.');
    assert.equal(await page.inputValue('#login-username'), 'carol');
    await screenshot(page, 'register-done');
    await page.fill('#login-password', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/account$/);
    await expectText(page, '[data-testid="username"]', 'carol');
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
    // On the field it names, not in the page's alert.
    await expectText(page, '[data-testid="username-error"]', 'Failed! Username is already in use!');
    assert.equal(await page.locator('#reg-username.is-invalid').count(), 1);
    assert.equal(await page.locator('[data-testid="error"]').count(), 0);
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

  test('a user logs in by email, sees the account console and the user board only', async () => {
    await server.signUp('frank');
    const page = await newPage(browser);
    await signIn(page, server, 'frank@example.com');
    await expectText(page, '[data-testid="email"]', 'frank@example.com');
    await expectText(page, '[data-testid="roles"]', 'User');
    await screenshot(page, 'profile');
    await page.click('[data-testid="account-nav-sessions"]');
    await page.locator('[data-testid="session"]').first().waitFor();
    await assertHttpOnlySession(page);
    await assertNoTokenVisible(page);

    assert.deepEqual(await userMenuItems(page), ['Account', 'Demo', 'Sign out']);
    await page.click('[data-testid="menu-demo"]');
    assert.deepEqual(await demoTabs(page), ['Public', 'User']);
    await page.click('[data-testid="demo-tabs"] a:has-text("User")');
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
    // The tutorial's address, now the demo's.
    await page.goto(`${server.url}/user`);
    await page.waitForURL(/\/login\?returnUrl=%2Fdemo%2Fuser/);
    await screenshot(page, 'login');
    await page.fill('#login-username', 'gina');
    await page.fill('#login-password', PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/demo\/user$/);
    await expectText(page, '[data-testid="content"]', 'User Content.');
    await assertNoTokenVisible(page);
  });

  test('the admin sees every board and the admin console', async () => {
    const page = await newPage(browser);
    await signIn(page, server, ADMIN.username, ADMIN.password);
    assert.deepEqual(await userMenuItems(page), ['Account', 'Admin console', 'Demo', 'Sign out']);
    await page.click('[data-testid="menu-demo"]');
    assert.deepEqual(await demoTabs(page), ['Public', 'User', 'Moderator', 'Admin']);
    await page.click('[data-testid="demo-tabs"] a:has-text("Moderator")');
    await expectText(page, '[data-testid="content"]', 'Moderator Content.');
    await screenshot(page, 'board-moderator');
    await page.click('[data-testid="demo-tabs"] a:has-text("Admin")');
    await expectText(page, '[data-testid="content"]', 'Admin Content.');
    await screenshot(page, 'board-admin');
    await assertNoTokenVisible(page);
  });

  test('sign out ends the session: the cookies are gone and the boards too', async () => {
    await server.signUp('hank');
    const page = await newPage(browser);
    await signIn(page, server, 'hank');
    await signOutFromMenu(page);
    await page.waitForURL(/\/login\?reason=signedout/);
    await expectText(page, '[data-testid="notice"]', "You've been signed out.");
    const cookies = await page.context().cookies();
    assert.equal(cookies.filter((c) => c.name.startsWith('portcullis_')).length, 0);
    assert.equal(await page.locator('[data-testid="user-menu-button"]').count(), 0);
    await page.locator('[data-testid="nav-sign-in"]').waitFor();
    await page.goto(`${server.url}/user`);
    await page.waitForURL(/\/login\?returnUrl=/);
    await assertNoTokenVisible(page);
  });

  test('the layout works on a phone: the user menu opens and closes after a choice', async () => {
    await server.signUp('ivy');
    const page = await newPage(browser, { phone: true });
    await signIn(page, server, 'ivy');
    const demoLink = page.locator('[data-testid="menu-demo"]');
    assert.equal(await demoLink.isVisible(), false, 'the menu starts closed');
    await openUserMenu(page);
    await demoLink.waitFor({ state: 'visible' });
    await screenshot(page, 'phone-menu');
    await demoLink.click();
    await page.click('[data-testid="demo-tabs"] a:has-text("User")');
    await expectText(page, '[data-testid="content"]', 'User Content.');
    assert.equal(await demoLink.isVisible(), false, 'the menu closes after a choice');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page scrolls sideways on a phone (${width}px)`);
    await screenshot(page, 'phone-board');
    await assertNoTokenVisible(page);
  });
});
