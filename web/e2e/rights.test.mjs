// Roles, permissions, groups and API keys, in the browser: an admin defines the permission
// invoices:write, a role billing that gives it and a group finance that carries the role,
// and puts an existing user in the group, all by clicking through the admin pages; the
// user's rights say where billing comes from. The user then makes an API key with that
// permission on the profile's API keys card and reads it, shown once: forward
// authentication lets the key through for invoices:write (200) and not for invoices:delete
// (403); once the user revokes it in the page, the key is refused (401). Then a service
// account: made, given the role and a key by the admin; and the role, still held, deleted
// only through "delete anyway".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  assertNoTokenVisible,
  expectText,
  newPage,
  screenshot,
  signIn,
  startBrowser,
  startServer,
} from './harness.mjs';

/** `GET /api/auth/forward?permission=…` with the key as a bearer token, as a proxy would ask. */
async function forward(server, key, permission) {
  const url = `${server.url.replace('localhost', '127.0.0.1')}/api/auth/forward?permission=${encodeURIComponent(permission)}`;
  const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  return { status: res.status, user: res.headers.get('x-portcullis-user') };
}

describe('rights', () => {
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

  test('an admin gives a user invoices:write through a group; the user makes a key that passes forward auth until revoked', async () => {
    await server.signUp('fiona');

    // The admin: a permission, a role that gives it, a group that carries the role.
    const admin = await newPage(browser);
    await signIn(admin, server, ADMIN.username, ADMIN.password);
    await admin.goto(`${server.url}/admin/users`);
    await admin.click('[data-testid="admin-tab-roles"]');
    await admin.waitForURL(/\/admin\/roles$/);
    await admin.locator('[data-testid="roles"] tr[data-role="admin"] [data-testid="role-built-in"]').waitFor();

    await admin.fill('#permission-name', 'invoices:write');
    await admin.fill('#permission-description', 'Write invoices');
    await admin.click('[data-testid="create-permission"]');
    await expectText(admin, '[data-testid="permissions-notice"]', 'Permission invoices:write created.');
    await admin.locator('[data-testid="permissions"] tr[data-permission="invoices:write"]').waitFor();

    await admin.fill('#role-name', 'billing');
    await admin.fill('#role-description', 'Sends invoices');
    await admin.locator('[data-testid="role-permission"][data-permission="invoices:write"]').check();
    await admin.click('[data-testid="create-role"]');
    await expectText(admin, '[data-testid="roles-notice"]', 'Role Billing created.');
    await expectText(admin, 'tr[data-role="billing"] [data-testid="role-permissions"]', 'invoices:write');
    await expectText(admin, 'tr[data-permission="invoices:write"] [data-testid="permission-roles"]', 'Billing');
    await screenshot(admin, 'rights-roles');

    await admin.click('[data-testid="admin-tab-groups"]');
    await admin.waitForURL(/\/admin\/groups$/);
    await admin.locator('[data-testid="group-role"][data-role="billing"]').waitFor();
    await admin.fill('#group-name', 'finance');
    await admin.locator('[data-testid="group-role"][data-role="billing"]').check();
    await admin.click('[data-testid="create-group"]');
    await expectText(admin, '[data-testid="groups-notice"]', 'Group finance created.');
    await expectText(admin, 'tr[data-group="finance"] [data-testid="group-roles"]', 'Billing');

    // The user joins the group, found by username.
    await admin.click('tr[data-group="finance"] [data-testid="group-members-toggle"]');
    await expectText(admin, '[data-testid="members-empty"]', 'No members.');
    await admin.fill('#member-search', 'fiona');
    await admin.click('[data-testid="member-search"]');
    await admin.click('[data-testid="member-candidate"][data-username="fiona"] [data-testid="add-member"]');
    await expectText(admin, '[data-testid="members-notice"]', 'fiona is in finance.');
    await expectText(admin, '[data-testid="member"][data-username="fiona"] [data-testid="member-name"]', 'fiona');
    await expectText(admin, 'tr[data-group="finance"] [data-testid="group-members"]', '1');
    await screenshot(admin, 'rights-groups');

    // The user's rights say where billing comes from.
    await admin.click('[data-testid="admin-tab-users"]');
    await admin.waitForURL(/\/admin\/users$/);
    await admin.fill('#user-search', 'fiona');
    await admin.locator('[data-testid="users"] tr[data-username="fiona"]').waitFor();
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="users"] tr[data-username]').length === 1);
    await admin.click('tr[data-username="fiona"] [data-testid="rights"]');
    await expectText(admin, '[data-testid="rights-role"][data-role="billing"]', 'Billing: group finance');
    await expectText(admin, '[data-testid="rights-permission"][data-permission="invoices:write"]', 'invoices:write from Billing');
    await screenshot(admin, 'rights-user');
    await assertNoTokenVisible(admin);

    // The user: a key with the permission, shown once.
    const user = await newPage(browser);
    await signIn(user, server, 'fiona');
    await expectText(user, '[data-testid="groups"]', 'finance');
    await user.click('[data-testid="account-nav-api-keys"]');
    const box = user.locator('[data-testid="api-keys-card"] [data-testid="api-key-pick-permission"][data-permission="invoices:write"]');
    await box.waitFor();
    await expectText(user, '[data-testid="api-keys-empty"]', 'No API keys yet.');
    await user.fill('#api-key-name', 'billing script');
    await user.fill('#api-key-days', '7');
    await box.check();
    await user.click('[data-testid="create-api-key"]');
    await user.locator('[data-testid="api-key-created"]').waitFor();
    const key = (await user.locator('[data-testid="api-key-secret"]').textContent())?.trim() ?? '';
    assert.match(key, /^pck_[A-Za-z0-9_-]{43}$/);
    const item = user.locator('[data-testid="api-key"][data-key-name="billing script"]');
    await expectText(user, '[data-testid="api-key"][data-key-name="billing script"] [data-testid="api-key-status"]', 'Active');
    assert.deepEqual(
      (await item.locator('[data-testid="api-key-permission"]').allTextContents()).map((t) => t.trim()),
      ['invoices:write'],
    );
    assert.equal(await item.locator('[data-testid="api-key-prefix"]').textContent(), `${key.slice(0, 12)}…`);
    await screenshot(user, 'rights-api-key-created');

    assert.deepEqual(await forward(server, key, 'invoices:write'), { status: 200, user: 'fiona' });
    assert.equal((await forward(server, key, 'invoices:delete')).status, 403);

    // Done: the key is not shown again.
    await user.click('[data-testid="dismiss-api-key"]');
    await user.locator('[data-testid="api-key-created"]').waitFor({ state: 'detached' });
    assert.equal(await user.locator(`text=${key}`).count(), 0);

    // Revoked in the page: refused at once.
    await item.locator('[data-testid="api-key-revoke"]').click();
    await item.locator('[data-testid="api-key-confirm-revoke"]').click();
    await expectText(user, '[data-testid="api-keys-notice"]', 'The key “billing script” is revoked: it no longer works.');
    await expectText(user, '[data-testid="api-key"][data-key-name="billing script"] [data-testid="api-key-status"]', 'Revoked');
    assert.equal((await forward(server, key, 'invoices:write')).status, 401);
    await screenshot(user, 'rights-api-key-revoked');

    // After a reload the list still says so.
    await user.reload();
    await expectText(user, '[data-testid="api-key"][data-key-name="billing script"] [data-testid="api-key-status"]', 'Revoked');
    await assertNoTokenVisible(user);
  });

  test('a service account gets a role and a key from the admin; a role still held is deleted only with "delete anyway"', async () => {
    const admin = await newPage(browser);
    await signIn(admin, server, ADMIN.username, ADMIN.password);
    await admin.goto(`${server.url}/admin/users`);

    // A service account, made with the form under the table: the table shows it, keys open.
    await admin.fill('#service-account-username', 'billing-bot');
    await admin.fill('#service-account-description', 'Sends the invoices at night');
    await admin.click('[data-testid="create-service-account"]');
    await expectText(admin, '[data-testid="admin-notice"]', 'Service account billing-bot created: make it a key below.');
    await expectText(admin, 'tr[data-username="billing-bot"] [data-testid="service-account"]', 'Service account');
    await admin.locator('tr[data-keys-of="billing-bot"] [data-testid="api-keys-empty"]').waitFor();

    // Its own roles: billing, ticked in its rights.
    await admin.click('tr[data-username="billing-bot"] [data-testid="rights"]');
    await admin.locator('[data-testid="own-role"][data-role="billing"]').check();
    await admin.click('[data-testid="save-own-roles"]');
    await expectText(admin, '[data-testid="rights-notice"]', 'Roles of billing-bot: User, Billing');
    await expectText(admin, '[data-testid="rights-role"][data-role="billing"]', 'Billing: own');

    // A key for it, with the permission its role gives.
    await admin.click('tr[data-username="billing-bot"] [data-testid="api-keys"]');
    const box = admin.locator('[data-testid="api-key-pick-permission"][data-permission="invoices:write"]');
    await box.waitFor();
    await admin.fill('#sa-key-name', 'nightly');
    await box.check();
    await admin.click('[data-testid="create-api-key"]');
    const key = (await admin.locator('[data-testid="api-key-secret"]').textContent())?.trim() ?? '';
    assert.match(key, /^pck_/);
    await screenshot(admin, 'rights-service-account-key');
    assert.deepEqual(await forward(server, key, 'invoices:write'), { status: 200, user: 'billing-bot' });

    // billing is held: deleting it is refused until "delete anyway", and the key loses it.
    await admin.click('[data-testid="admin-tab-roles"]');
    await admin.waitForURL(/\/admin\/roles$/);
    await expectText(admin, 'tr[data-role="billing"] [data-testid="role-holders"]', '1 account · 1 group');
    await admin.click('tr[data-role="billing"] [data-testid="delete-role"]');
    await admin.click('tr[data-role="billing"] [data-testid="confirm-delete-role"]');
    await admin.locator('[data-testid="delete-role-cascade"]').waitFor();
    await screenshot(admin, 'rights-role-in-use');
    assert.equal((await forward(server, key, 'invoices:write')).status, 200);
    await admin.click('[data-testid="delete-role-cascade"]');
    await expectText(admin, '[data-testid="roles-notice"]', 'Role Billing deleted.');
    await admin.locator('tr[data-role="billing"]').waitFor({ state: 'detached' });
    await expectText(admin, 'tr[data-permission="invoices:write"] [data-testid="permission-roles"]', 'No role');
    assert.equal((await forward(server, key, 'invoices:write')).status, 403);
    await assertNoTokenVisible(admin);
  });
});
