// The admin page: search and paging, role changes that the user's app follows, disabling,
// deleting with confirmation, and the audit log (its own page, events in words).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  assertNoTokenVisible,
  demoTabs,
  newPage,
  screenshot,
  signIn,
  startBrowser,
  startServer,
  expectText,
} from './harness.mjs';

async function openAdmin(page, server) {
  await signIn(page, server, ADMIN.username, ADMIN.password);
  await page.goto(`${server.url}/admin/users`);
  await page.locator('[data-testid="users"] tbody tr[data-username]').first().waitFor();
}

async function search(page, query) {
  await page.fill('#user-search', query);
  await page.waitForFunction(
    (q) => {
      const rows = [...document.querySelectorAll('[data-testid="users"] tbody tr[data-username]')];
      return rows.length > 0 && rows.every((r) => r.dataset.username.toLowerCase().startsWith(q.toLowerCase()));
    },
    query,
  );
}

function row(page, username) {
  return page.locator(`[data-testid="users"] tr[data-username="${username}"]`);
}

describe('admin', () => {
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

  test('the user table searches and pages', async () => {
    for (let i = 1; i <= 12; i++) await server.signUp(`pager${String(i).padStart(2, '0')}`);
    const page = await newPage(browser);
    await openAdmin(page, server);
    await search(page, 'PAGER');
    await expectText(page, '[data-testid="user-total"]', '12 users');
    await expectText(page, '[data-testid="page"]', 'Page 1 of 2');
    assert.equal(await page.locator('[data-testid="users"] tr[data-username]').count(), 10);
    await page.click('[data-testid="next-page"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="page"]')?.textContent?.includes('Page 2'));
    await page.locator('tr[data-username="pager12"]').waitFor();
    assert.deepEqual(
      await page.locator('[data-testid="users"] tr[data-username]').evaluateAll((rows) => rows.map((r) => r.dataset.username)),
      ['pager11', 'pager12'],
    );
    await screenshot(page, 'admin-users');
    await assertNoTokenVisible(page);
  });

  test("an admin changes a user's role: the user's demo tabs and board access follow", async () => {
    await server.signUp('mona');
    const user = await newPage(browser);
    await signIn(user, server, 'mona');
    await user.goto(`${server.url}/demo`);
    assert.deepEqual(await demoTabs(user), ['Public', 'User']);

    const admin = await newPage(browser);
    await openAdmin(admin, server);
    await search(admin, 'mona');
    await row(admin, 'mona').locator('[data-testid="role-moderator"]').check();
    await admin.waitForFunction(() =>
      document.querySelector('tr[data-username="mona"] [data-testid="role-moderator"]:checked:not(:disabled)'),
    );
    await expectText(admin, '[data-testid="admin-confirmation"]', 'Roles of mona: User, Moderator');
    await admin.waitForFunction(() =>
      [...document.querySelectorAll('tr[data-username="mona"] [data-testid="user-role"]')].map((b) => b.textContent.trim()).join() === 'User,Moderator',
    );
    await screenshot(admin, 'admin-role-changed');

    // The user opens the moderator board by its address: the guard asks the server afresh.
    await user.goto(`${server.url}/mod`);
    await expectText(user, '[data-testid="content"]', 'Moderator Content.');
    assert.deepEqual(await demoTabs(user), ['Public', 'User', 'Moderator']);
    await screenshot(user, 'board-moderator-promoted');

    // Taken away again: the demo loses the board and the guard refuses it.
    await row(admin, 'mona').locator('[data-testid="role-moderator"]').uncheck();
    await admin.waitForFunction(() =>
      document.querySelector('tr[data-username="mona"] [data-testid="role-moderator"]:not(:checked):not(:disabled)'),
    );
    await user.goto(`${server.url}/demo`);
    await user.goto(`${server.url}/mod`);
    await user.locator('[data-testid="forbidden"]').waitFor();
    await user.goto(`${server.url}/demo`);
    assert.deepEqual(await demoTabs(user), ['Public', 'User']);
    await assertNoTokenVisible(user);
    await assertNoTokenVisible(admin);
  });

  test('the last admin cannot remove their own admin role: the server message is shown', async () => {
    const admin = await newPage(browser);
    await openAdmin(admin, server);
    await search(admin, 'admin');
    await row(admin, 'admin').locator('[data-testid="role-admin"]').click();
    await expectText(admin, '[data-testid="admin-error"]', 'admin: Cannot remove the last admin.');
    await admin.waitForFunction(() =>
      document.querySelector('tr[data-username="admin"] [data-testid="role-admin"]:checked:not(:disabled)'),
    );
    await assertNoTokenVisible(admin);
  });

  test('delete asks for confirmation, then the user is gone', async () => {
    await server.signUp('otto');
    const admin = await newPage(browser);
    await openAdmin(admin, server);
    await search(admin, 'otto');
    await row(admin, 'otto').locator('[data-testid="delete"]').click();
    await row(admin, 'otto').locator('[data-testid="confirm-delete"]').waitFor();
    await screenshot(admin, 'admin-delete-confirm');
    await row(admin, 'otto').locator('button:has-text("Cancel")').click();
    await row(admin, 'otto').locator('[data-testid="delete"]').waitFor();
    await row(admin, 'otto').locator('[data-testid="delete"]').click();
    await row(admin, 'otto').locator('[data-testid="confirm-delete"]').click();
    await row(admin, 'otto').waitFor({ state: 'detached' });
    await expectText(admin, '[data-testid="admin-confirmation"]', 'otto is deleted.');
    const res = await fetch(`${server.url.replace('localhost', '127.0.0.1')}/api/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'otto', password: 'Tr0ub4dor&3-horse-staple' }),
    });
    assert.equal(res.status, 401);
    await assertNoTokenVisible(admin);
  });

  test('the audit log lists what happened, newest first, in words', async () => {
    await server.signUp('pia');
    const admin = await newPage(browser);
    await openAdmin(admin, server);
    await admin.click('[data-testid="admin-tab-audit"]');
    await admin.waitForURL(/\/admin\/audit$/);
    const audit = admin.locator('[data-testid="audit"] tr[data-testid="audit-entry"]');
    await audit.first().waitFor();
    assert.equal((await audit.first().locator('[data-testid="audit-event"]').textContent())?.trim(), 'Signed in', 'the admin signing in is the newest event');
    assert.equal((await audit.first().locator('[data-testid="audit-event-code"]').textContent())?.trim(), 'signin');
    assert.equal(await audit.first().getAttribute('data-event'), 'signin');
    const events = (await admin.locator('[data-testid="audit"] [data-testid="audit-event"]').allTextContents()).map((e) => e.trim());
    assert.ok(events.includes('Signed up'), `a sign-up among ${events.join(', ')}`);
    // pia signed up through the API: the entry is about her.
    const signup = admin.locator('[data-testid="audit"] tr[data-event="signup"]').first();
    assert.match((await signup.locator('[data-testid="audit-subject"]').textContent())?.trim() ?? '', /pia/);
    await screenshot(admin, 'admin-audit');
    await assertNoTokenVisible(admin);
  });
});
