// The admin console at a desk (1280x800) and on a phone (390x844): every page of it loads
// with its navigation and nothing wider than the screen; on the phone each page's actions
// (a user's Disable and Delete, a role's, a group's, a client's, a provider's) lie within the
// screen and work, each change is confirmed by the toast, and the audit log shows the change
// just made without Refresh, naming who did it and to whom. Branding is saved and confirmed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN,
  adminCookies,
  apiUrl,
  assertNoTokenVisible,
  expectText,
  newPage,
  screenshot,
  signIn,
  startBrowser,
  startServer,
} from './harness.mjs';

const PHONE_WIDTH = 390;

/** Each page of the console: its address, its heading, and what shows once it has loaded. */
const PAGES = [
  { name: 'users', path: '/admin/users', heading: 'Manage users', ready: '[data-testid="users"] tr[data-username]' },
  { name: 'audit', path: '/admin/audit', heading: 'Audit log', ready: '[data-testid="audit"] tr[data-testid="audit-entry"]' },
  { name: 'roles', path: '/admin/roles', heading: 'Roles and permissions', ready: '[data-testid="roles"] tr[data-role="admin"]' },
  { name: 'groups', path: '/admin/groups', heading: 'Groups', ready: '[data-testid="groups"] tr[data-group]' },
  { name: 'clients', path: '/admin/clients', heading: 'OpenID Connect clients', ready: '[data-testid="clients"] tr[data-client-id]' },
  { name: 'providers', path: '/admin/providers', heading: 'Identity providers', ready: '[data-testid="providers"] tr[data-provider]' },
  { name: 'branding', path: '/admin/branding', heading: 'Branding', ready: '[data-testid="branding-form"], [data-testid="branding-load-error"]' },
];

const TABS = ['users', 'audit', 'roles', 'groups', 'clients', 'providers', 'branding'];

async function adminPage(browser, server, phone) {
  const page = await newPage(browser, { phone });
  if (!phone) await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page, server, ADMIN.username, ADMIN.password);
  return page;
}

/** Nothing on the page is wider than the phone: no sideways scrolling. */
async function assertNoSidewaysScroll(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE_WIDTH, `${what}: the page is ${width}px wide on a ${PHONE_WIDTH}px phone`);
}

/** The element is on screen across (it may need scrolling down, never sideways). */
async function assertWithinWidth(locator, what, width = PHONE_WIDTH) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is not shown`);
  assert.ok(box.x >= 0 && box.x + box.width <= width, `${what} lies at x=${box.x}..${box.x + box.width}, beyond ${width}px`);
}

/** Clicks `locator` once it is shown within the phone's width. */
async function tapOnScreen(locator, what) {
  await assertWithinWidth(locator, what);
  await locator.click();
}

async function confirmation(page, testid, expected) {
  await expectText(page, '[data-testid="admin-confirmation"]', expected);
  await expectText(page, `[data-testid="admin-confirmation"] [data-testid="${testid}"]`, expected);
}

async function api(server, cookie, method, path, body) {
  const res = await fetch(apiUrl(server, path), {
    method,
    headers: { 'content-type': 'application/json', cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('admin console', () => {
  let server;
  let browser;
  let cookie;
  /** Whether the server answers the branding routes (the lead's change). */
  let branding;
  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    cookie = await adminCookies(server);
    await server.signUp('carla');
    await server.signUp('dora');
    // Something on every page, made through the API: the pages' own forms have tests of their own.
    for (const [path, body] of [
      ['/api/admin/roles', { name: 'editor', description: 'Edits pages', permissions: [] }],
      ['/api/admin/groups', { name: 'ops', roles: ['moderator'] }],
      ['/api/admin/clients', { name: 'Wiki', redirectUris: ['https://wiki.example.com/callback'] }],
      ['/api/admin/providers', { id: 'hub', kind: 'github', displayName: 'GitHub', clientId: 'Iv1.abc', clientSecret: 's3cret', signup: 'existing' }],
    ]) {
      const made = await api(server, cookie, 'POST', path, body);
      assert.ok(made.status === 200 || made.status === 201, `${path}: ${made.status} ${JSON.stringify(made.body)}`);
    }
    branding = (await fetch(apiUrl(server, '/api/branding'))).status === 200;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const size of ['desktop', 'phone']) {
    test(`every admin page loads with the console's navigation (${size})`, async () => {
      const phone = size === 'phone';
      const page = await adminPage(browser, server, phone);
      for (const { name, path, heading, ready } of PAGES) {
        await page.goto(`${server.url}${path}`);
        await expectText(page, 'h1', heading);
        await page.locator(ready).first().waitFor();
        const current = page.locator(`[data-testid="admin-tab-${name}"]`);
        assert.equal(await current.getAttribute('aria-current'), 'page', `${name} is the current entry`);
        for (const tab of TABS) {
          const entry = page.locator(`[data-testid="admin-tab-${tab}"]`);
          assert.ok(await entry.isVisible(), `${tab} is in the navigation of ${name}`);
          if (phone) await assertWithinWidth(entry, `the ${tab} entry on ${name}`);
        }
        if (phone) await assertNoSidewaysScroll(page, name);
        await screenshot(page, `admin-${name}-${size}`);
      }
      // The navigation goes where it says.
      await page.click('[data-testid="admin-tab-groups"]');
      await page.waitForURL(/\/admin\/groups$/);
      await expectText(page, 'h1', 'Groups');
      await assertNoTokenVisible(page);
    });
  }

  test("a client's own logo, set on its Edit form, shows beside its name on its users' sign-in and consent pages", async () => {
    const made = await api(server, cookie, 'POST', '/api/admin/clients', {
      name: 'Notes',
      redirectUris: ['https://notes.example.com/callback'],
      public: true,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const clientId = made.body.clientId;
    const page = await adminPage(browser, server, false);
    await page.goto(`${server.url}/admin/clients`);
    const row = page.locator(`tr[data-client-id="${clientId}"]`);
    await row.locator('[data-testid="edit-client"]').click();
    await page.locator('[data-testid="client-logo-none"]').waitFor();
    // A 1x1 PNG.
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
        '1f15c4890000000d49444154789c6300010000050001' +
        '0d0a2db40000000049454e44ae426082',
      'hex',
    );
    await page.setInputFiles('[data-testid="client-logo-file"]', { name: 'notes.png', mimeType: 'image/png', buffer: png });
    await confirmation(page, 'clients-notice', 'Notes has a new logo.');
    const current = page.locator('[data-testid="client-logo-current"]');
    await current.waitFor();
    const logoUrl = await current.getAttribute('src');
    assert.match(logoUrl, new RegExp(`^/api/branding/clients/${clientId}/logo\\?v=\\d+$`));
    await screenshot(page, 'admin-client-logo');

    // A visitor sent by Notes to sign in sees its logo beside its name.
    const visitor = await newPage(browser);
    const authorize = new URL(`${server.url}/api/oauth/authorize`);
    for (const [k, v] of Object.entries({
      client_id: clientId,
      redirect_uri: 'https://notes.example.com/callback',
      response_type: 'code',
      scope: 'openid profile',
      state: 'st4te',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })) {
      authorize.searchParams.set(k, v);
    }
    await visitor.goto(authorize.toString());
    await visitor.waitForURL(/\/login/);
    await expectText(visitor, '[data-testid="login-heading"]', 'Sign in to Notes with Portcullis');
    assert.equal(await visitor.locator('[data-testid="client-logo"]').getAttribute('src'), logoUrl);
    await screenshot(visitor, 'login-client-logo');

    // Removed, it is gone from the form.
    await page.click('[data-testid="client-logo-remove"]');
    await confirmation(page, 'clients-notice', 'Notes has no logo now.');
    await page.locator('[data-testid="client-logo-none"]').waitFor();
  });

  test('on a phone, a user is disabled and deleted with buttons on screen; each change is confirmed and shows in the audit log', async () => {
    const page = await adminPage(browser, server, true);
    await page.goto(`${server.url}/admin/users`);
    await page.fill('#user-search', 'carla');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="users"] tr[data-username]')];
      return rows.length === 1 && rows[0].dataset.username === 'carla';
    });
    const row = page.locator('tr[data-username="carla"]');
    await expectText(page, 'tr[data-username="carla"] [data-testid="user-roles"]', 'User');

    await tapOnScreen(row.locator('[data-testid="disable"]'), 'Disable');
    await confirmation(page, 'admin-notice', 'carla is now disabled.');
    await row.locator('[data-testid="enable"]').waitFor();
    await assertWithinWidth(page.locator('[data-testid="admin-confirmation"]'), 'the confirmation');
    // The recent activity under the table has it, without Refresh.
    await expectText(page, '[data-testid="recent-activity"] tr[data-testid="audit-entry"] [data-testid="audit-event"]', 'Account disabled');
    await screenshot(page, 'admin-users-disabled-phone');

    await tapOnScreen(row.locator('[data-testid="role-moderator"]'), 'the Moderator box');
    await confirmation(page, 'admin-notice', 'Roles of carla: User, Moderator');

    await tapOnScreen(row.locator('[data-testid="delete"]'), 'Delete');
    await tapOnScreen(row.locator('[data-testid="confirm-delete"]'), 'Yes, delete');
    await confirmation(page, 'admin-notice', 'carla is deleted.');
    await row.waitFor({ state: 'detached' });
    await assertNoSidewaysScroll(page, 'users after the changes');
    await assertNoTokenVisible(page);
  });

  test('the audit log names who did a change and to whom, and shows it without Refresh', async (t) => {
    const newest = (await api(server, cookie, 'GET', '/api/admin/audit?limit=1')).body.items[0];
    if (!('actorUsername' in newest)) {
      t.skip('this server does not name accounts in the audit log yet (actorUsername, subjectUsername)');
      return;
    }
    const page = await adminPage(browser, server, true);
    await page.goto(`${server.url}/admin/audit`);
    await page.locator('[data-testid="audit"] tr[data-testid="audit-entry"]').first().waitFor();
    // The log on screen follows the changes made in the console (this page's app), not those
    // made elsewhere: the change is made here.
    await page.goto(`${server.url}/admin/users`);
    await page.fill('#user-search', 'dora');
    const row = page.locator('tr[data-username="dora"]');
    await tapOnScreen(row.locator('[data-testid="disable"]'), 'Disable');
    await confirmation(page, 'admin-notice', 'dora is now disabled.');
    const entry = '[data-testid="recent-activity"] tr[data-testid="audit-entry"]';
    await expectText(page, `${entry} [data-testid="audit-event"]`, 'Account disabled');
    await expectText(page, `${entry} [data-testid="audit-subject"]`, 'dora');
    await expectText(page, `${entry} [data-testid="audit-actor"]`, ADMIN.username);

    await tapOnScreen(page.locator('[data-testid="admin-tab-audit"]'), 'the Audit log entry');
    await page.waitForURL(/\/admin\/audit$/);
    const first = '[data-testid="audit"] tr[data-testid="audit-entry"]';
    await expectText(page, `${first} [data-testid="audit-event"]`, 'Account disabled');
    await expectText(page, `${first} [data-testid="audit-event-code"]`, 'disabled');
    await expectText(page, `${first} [data-testid="audit-subject"]`, 'dora');
    await expectText(page, `${first} [data-testid="audit-actor"]`, ADMIN.username);
    await expectText(page, `${first} [data-testid="audit-outcome"]`, 'OK');
    await assertNoSidewaysScroll(page, 'the audit log');
    await screenshot(page, 'admin-audit-named-phone');
  });

  test("on a phone, the other pages' actions lie on screen and work, each confirmed", async () => {
    const page = await adminPage(browser, server, true);

    await page.goto(`${server.url}/admin/roles`);
    const role = page.locator('tr[data-role="editor"]');
    await expectText(page, 'tr[data-role="editor"] [data-testid="role-name"]', 'Editor');
    await tapOnScreen(role.locator('[data-testid="edit-role"]'), "the role's Edit");
    await tapOnScreen(page.locator('[data-testid="save-role"]'), "the role's Save");
    await confirmation(page, 'roles-notice', 'Role Editor saved: it gives no permissions.');
    await tapOnScreen(role.locator('[data-testid="delete-role"]'), "the role's Delete");
    await tapOnScreen(role.locator('[data-testid="confirm-delete-role"]'), "the role's Yes, delete");
    await confirmation(page, 'roles-notice', 'Role Editor deleted.');
    await assertNoSidewaysScroll(page, 'roles');

    await page.goto(`${server.url}/admin/groups`);
    const group = page.locator('tr[data-group="ops"]');
    await expectText(page, 'tr[data-group="ops"] [data-testid="group-roles"]', 'Moderator');
    await tapOnScreen(group.locator('[data-testid="group-members-toggle"]'), "the group's Members");
    await page.fill('#member-search', 'dora');
    await tapOnScreen(page.locator('[data-testid="member-search"]'), 'Find and add');
    await tapOnScreen(page.locator('[data-testid="member-candidate"][data-username="dora"] [data-testid="add-member"]'), 'Add dora');
    await confirmation(page, 'members-notice', 'dora is in ops.');
    await tapOnScreen(page.locator('[data-testid="member"][data-username="dora"] [data-testid="remove-member"]'), 'Remove dora');
    await confirmation(page, 'members-notice', 'dora is no longer in ops.');
    await tapOnScreen(group.locator('[data-testid="delete-group"]'), "the group's Delete");
    await tapOnScreen(group.locator('[data-testid="confirm-delete-group"]'), "the group's Yes, delete");
    await confirmation(page, 'groups-notice', 'Group ops deleted.');
    await assertNoSidewaysScroll(page, 'groups');

    await page.goto(`${server.url}/admin/clients`);
    const client = page.locator('tr[data-client-id]').first();
    await client.waitFor();
    await tapOnScreen(client.locator('[data-testid="edit-client"]'), "the client's Edit");
    await page.fill('#edit-client-name', 'Wiki 2');
    await tapOnScreen(page.locator('[data-testid="save-client"]'), "the client's Save");
    await confirmation(page, 'clients-notice', 'Wiki 2 saved.');
    await tapOnScreen(client.locator('[data-testid="delete-client"]'), "the client's Delete");
    await tapOnScreen(client.locator('[data-testid="confirm-delete-client"]'), "the client's Yes, delete");
    await confirmation(page, 'clients-notice', 'Wiki 2 deleted.');
    await assertNoSidewaysScroll(page, 'clients');

    await page.goto(`${server.url}/admin/providers`);
    const provider = page.locator('tr[data-provider="hub"]');
    await tapOnScreen(provider.locator('[data-testid="disable-provider"]'), "the provider's Turn off");
    await confirmation(page, 'providers-notice', 'GitHub is off: nobody signs in with it.');
    await tapOnScreen(provider.locator('[data-testid="delete-provider"]'), "the provider's Delete");
    await tapOnScreen(provider.locator('[data-testid="confirm-delete-provider"]'), "the provider's Yes, delete");
    await confirmation(page, 'providers-notice', 'Provider GitHub (hub) deleted.');
    await assertNoSidewaysScroll(page, 'providers');
    await screenshot(page, 'admin-providers-deleted-phone');
    await assertNoTokenVisible(page);
  });

  for (const size of ['desktop', 'phone']) {
    test(`branding is saved and confirmed (${size})`, async (t) => {
      if (!branding) {
        t.skip('this server has no GET /api/branding yet');
        return;
      }
      const phone = size === 'phone';
      const page = await adminPage(browser, server, phone);
      await page.goto(`${server.url}/admin/branding`);
      await page.locator('[data-testid="branding-form"]').waitFor();
      const name = `Acme ${size}`;
      await page.fill('#branding-name', name);
      if (await page.isChecked('#branding-no-color')) await page.uncheck('#branding-no-color');
      await page.fill('#branding-color', '#aa3300');
      await page.fill('#branding-footer-text', 'Terms');
      await page.fill('#branding-footer-url', 'https://acme.example/terms');
      await page.setInputFiles('#branding-logo', {
        name: 'logo.svg',
        mimeType: 'image/svg+xml',
        buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#a30"/></svg>'),
      });
      await page.locator('img[data-testid="branding-logo-preview"][src^="data:image/svg+xml"]').waitFor();
      await expectText(page, '[data-testid="branding-preview-name"]', `Sign in to ${name}`);
      const save = page.locator('[data-testid="save-branding"]');
      if (phone) await tapOnScreen(save, 'Save');
      else await save.click();
      await confirmation(page, 'branding-notice', `Branding saved: ${name}, with the new logo.`);
      if (phone) await assertNoSidewaysScroll(page, 'branding');
      await screenshot(page, `admin-branding-saved-${size}`);

      const saved = await (await fetch(apiUrl(server, '/api/branding'))).json();
      assert.equal(saved.productName, name);
      assert.equal(saved.primaryColor, '#aa3300');
      assert.deepEqual(saved.footerLink, { text: 'Terms', url: 'https://acme.example/terms' });
      assert.match(saved.logoUrl, /^\/api\/branding\/logo/);
      await assertNoTokenVisible(page);
    });
  }
});
