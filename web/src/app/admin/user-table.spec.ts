import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { UserTable } from './user-table';
import { said } from './notices.testing';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const user = (id: number, username: string, extra: object) => ({
  id,
  username,
  email: `${username}@example.com`,
  emailVerified: true,
  roles: ['ROLE_USER'],
  ownRoles: ['user'],
  serviceAccount: false,
  disabled: false,
  createdAt: '2026-01-01T00:00:00Z',
  lastSigninAt: null,
  ...extra,
});

describe('UserTable: second factors', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  it('shows 2FA and passkeys, and resets them after a confirmation', async () => {
    const fixture = TestBed.createComponent(UserTable);
    http.expectOne((r) => r.url === '/api/admin/users').flush({
      items: [user(1, 'alice', { totp: true, passkeys: 2 }), user(2, 'bob', { totp: false, passkeys: 0 })],
      page: 1,
      limit: 10,
      total: 2,
    });
    await settle(fixture);
    const row = (name: string) => fixture.nativeElement.querySelector(`tr[data-username="${name}"]`) as HTMLElement;
    const cell = (name: string, id: string) => row(name).querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
    expect(cell('alice', 'user-totp')).toBe('TOTP');
    expect(cell('alice', 'user-passkeys')).toBe('2');
    expect(cell('bob', 'user-totp')).toBe('off');
    expect(cell('bob', 'user-passkeys')).toBe('0');
    expect(row('bob').querySelector('[data-testid="reset-mfa"]')).toBeNull();

    (row('alice').querySelector('[data-testid="reset-mfa"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectNone('/api/admin/users/1/mfa');
    expect(row('alice').textContent).toContain('Remove every second factor of alice?');
    (row('alice').querySelector('[data-testid="confirm-reset-mfa"]') as HTMLButtonElement).click();
    const req = http.expectOne('/api/admin/users/1/mfa');
    expect(req.request.method).toBe('DELETE');
    req.flush({ message: 'Second factors removed.' });
    await settle(fixture);
    expect(cell('alice', 'user-totp')).toBe('off');
    expect(cell('alice', 'user-passkeys')).toBe('0');
    expect(said('admin-notice')).toBe('alice: Second factors removed.');
  });
});

describe('UserTable: roles, rights and service accounts', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  const role = (name: string, builtIn = false, clientId: string | null = null) => ({
    name,
    description: null,
    clientId,
    builtIn,
    permissions: [],
    users: 0,
    groups: 0,
  });
  const ROLES = [role('user', true), role('moderator', true), role('admin', true), role('billing'), role('notes-editor', false, 'c_notes')];
  const CAROL = user(3, 'carol', {
    totp: false,
    passkeys: 0,
    roles: ['ROLE_USER', 'ROLE_BILLING'],
    ownRoles: ['user', 'billing'],
  });
  const BOT = user(4, 'billing-bot', { totp: false, passkeys: 0, serviceAccount: true, email: 'billing-bot@service-account.invalid' });
  const RIGHTS = {
    id: 3,
    username: 'carol',
    roles: [
      { name: 'user', clientId: null, from: ['own'] },
      { name: 'billing', clientId: null, from: ['own', 'finance'] },
      { name: 'moderator', clientId: null, from: ['support'] },
    ],
    groups: ['finance', 'support'],
    permissions: [{ name: 'invoices:write', clientId: null, roles: ['billing'] }],
  };

  async function render(items = [CAROL, BOT]) {
    const fixture = TestBed.createComponent(UserTable);
    http.expectOne((r) => r.url === '/api/admin/users').flush({ items, page: 1, limit: 10, total: items.length });
    await settle(fixture);
    return fixture;
  }
  const row = (fixture: ComponentFixture<UserTable>, name: string) =>
    fixture.nativeElement.querySelector(`tr[data-username="${name}"]`) as HTMLElement;
  const all = (fixture: ComponentFixture<UserTable>, selector: string) =>
    Array.from(fixture.nativeElement.querySelectorAll(selector) as NodeListOf<HTMLElement>);

  it('the moderator box keeps the defined roles the account has itself', async () => {
    const fixture = await render();
    const box = row(fixture, 'carol').querySelector('[data-testid="role-moderator"]') as HTMLInputElement;
    expect(box.checked).toBe(false);
    box.click();
    const patch = http.expectOne('/api/admin/users/3');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ roles: ['user', 'billing', 'moderator'] });
    patch.flush({ ...CAROL, ownRoles: ['billing', 'moderator', 'user'] });
    await settle(fixture);
    expect((row(fixture, 'carol').querySelector('[data-testid="role-moderator"]') as HTMLInputElement).checked).toBe(true);
  });

  it("shows a user's rights, each role with where it comes from, and changes their own roles", async () => {
    const fixture = await render();
    (row(fixture, 'carol').querySelector('[data-testid="rights"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(row(fixture, 'carol').querySelector('[data-testid="rights"]')?.getAttribute('aria-expanded')).toBe('true');
    http.expectOne('/api/admin/users/3/rights').flush(RIGHTS);
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    http.expectOne('/api/admin/users/3/identities').flush({ items: [] });
    await settle(fixture);
    const roles = all(fixture, '[data-testid="rights-role"]').map((li) => li.textContent?.replace(/\s+/g, ' ').trim());
    expect(roles).toEqual(['User: own', 'Billing: own, group finance', 'Moderator: group support']);
    expect(all(fixture, '[data-testid="rights-groups"] .badge').map((b) => b.textContent?.trim())).toEqual(['finance', 'support']);
    const permissions = all(fixture, '[data-testid="rights-permission"]').map((li) => li.textContent?.replace(/\s+/g, ' ').trim());
    expect(permissions).toEqual(['invoices:write from Billing']);

    const own = (name: string) => fixture.nativeElement.querySelector(`[data-testid="own-role"][data-role="${name}"]`) as HTMLInputElement;
    expect(all(fixture, '[data-testid="own-role"]').map((b) => b.dataset['role'])).toEqual(['user', 'moderator', 'admin', 'billing', 'notes-editor']);
    expect(own('user').checked).toBe(true);
    expect(own('user').disabled).toBe(true);
    expect(own('billing').checked).toBe(true);
    // moderator comes through a group, not the account itself.
    expect(own('moderator').checked).toBe(false);
    own('notes-editor').click();
    own('billing').click();
    await settle(fixture);
    (fixture.nativeElement.querySelector('[data-testid="save-own-roles"]') as HTMLButtonElement).click();
    const patch = http.expectOne('/api/admin/users/3');
    expect(patch.request.body).toEqual({ roles: ['user', 'notes-editor'] });
    patch.flush({ ...CAROL, roles: ['ROLE_USER'], ownRoles: ['notes-editor', 'user'] });
    http.expectOne('/api/admin/users/3/rights').flush({ ...RIGHTS, roles: [RIGHTS.roles[0], { name: 'billing', clientId: null, from: ['finance'] }] });
    await settle(fixture);
    expect(said('rights-notice')).toBe('Roles of carol: User, Notes-editor');
    expect(all(fixture, '[data-testid="rights-role"]').map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'User: own',
      'Billing: group finance',
    ]);

    (row(fixture, 'carol').querySelector('[data-testid="rights"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(fixture.nativeElement.querySelector('[data-testid="user-rights"]')).toBeNull();
  });

  it("lists a user's linked sign-ins under their rights, and removes one after a confirmation", async () => {
    const fixture = await render();
    (row(fixture, 'carol').querySelector('[data-testid="rights"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectOne('/api/admin/users/3/rights').flush(RIGHTS);
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    const list = http.expectOne('/api/admin/users/3/identities');
    expect(list.request.method).toBe('GET');
    list.flush({
      items: [
        { id: 11, provider: 'acme', providerName: 'Acme SSO', email: 'carol@acme.example', createdAt: '2026-01-02T00:00:00Z', lastUsedAt: '2026-02-03T04:05:06Z' },
        { id: 12, provider: 'gone', providerName: null, email: null, createdAt: '2026-01-03T00:00:00Z', lastUsedAt: null },
      ],
    });
    await settle(fixture);
    const section = fixture.nativeElement.querySelector('tr[data-rights-of="carol"] [data-testid="user-identities"]') as HTMLElement;
    expect(section.querySelector('h3')?.textContent?.trim()).toBe('Linked sign-ins of carol');
    const items = Array.from(section.querySelectorAll('[data-testid="user-identity"]')) as HTMLElement[];
    expect(items.map((li) => li.querySelector('[data-testid="user-identity-provider"]')?.textContent?.trim())).toEqual(['Acme SSO', 'gone']);
    expect(items[0].textContent).toContain('carol@acme.example');
    expect(items[0].textContent).toContain('last used Feb 3, 2026');
    expect(items[1].textContent).toContain('never used to sign in yet');

    (items[0].querySelector('[data-testid="user-identity-remove"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectNone('/api/admin/users/3/identities/11');
    (section.querySelector('[data-testid="user-identity-confirm-remove"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/admin/users/3/identities/11');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, { status: 204, statusText: 'No Content' });
    await settle(fixture);
    expect(Array.from(section.querySelectorAll('[data-testid="user-identity-provider"]')).map((e) => e.textContent?.trim())).toEqual(['gone']);
    expect(said('user-identities-notice')).toBe('Acme SSO no longer signs carol in.');
  });

  it('says when a user has no linked sign-ins, and shows none for a service account', async () => {
    const fixture = await render();
    (row(fixture, 'carol').querySelector('[data-testid="rights"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectOne('/api/admin/users/3/rights').flush(RIGHTS);
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    http.expectOne('/api/admin/users/3/identities').flush({ items: [] });
    await settle(fixture);
    expect(fixture.nativeElement.querySelector('[data-testid="user-identities-empty"]')?.textContent?.trim()).toBe('None: signs in here only.');

    (row(fixture, 'billing-bot').querySelector('[data-testid="rights"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectOne('/api/admin/users/4/rights').flush({ id: 4, username: 'billing-bot', roles: [], groups: [], permissions: [] });
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    await settle(fixture);
    http.expectNone('/api/admin/users/4/identities');
    expect(fixture.nativeElement.querySelector('tr[data-rights-of="billing-bot"] [data-testid="user-identities"]')).toBeNull();
  });

  it('marks service accounts and opens their API keys', async () => {
    const fixture = await render();
    expect(row(fixture, 'billing-bot').querySelector('[data-testid="service-account"]')?.textContent?.trim()).toBe('Service account');
    expect(row(fixture, 'carol').querySelector('[data-testid="service-account"]')).toBeNull();
    expect(row(fixture, 'carol').querySelector('[data-testid="api-keys"]')).toBeNull();
    (row(fixture, 'billing-bot').querySelector('[data-testid="api-keys"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectOne('/api/admin/users/4/api-keys').flush({ items: [] });
    http.expectOne('/api/admin/users/4/rights').flush({ id: 4, username: 'billing-bot', roles: [], groups: [], permissions: [] });
    await settle(fixture);
    const card = fixture.nativeElement.querySelector('tr[data-keys-of="billing-bot"] [data-testid="api-keys-card"]') as HTMLElement;
    expect(card).not.toBeNull();
    expect(card.querySelector('#sa-key-name')).not.toBeNull();
    expect(card.querySelector('[data-testid="api-keys-empty"]')?.textContent?.trim()).toBe('No API keys yet.');
  });

  it('creates a service account, then shows it with its keys open', async () => {
    const fixture = await render();
    const type = async (selector: string, value: string) => {
      const input = fixture.nativeElement.querySelector(selector) as HTMLInputElement;
      input.value = value;
      input.dispatchEvent(new Event('input'));
      await fixture.whenStable();
    };
    await type('#service-account-username', 'report-bot');
    await type('#service-account-description', 'Nightly reports');
    (fixture.nativeElement.querySelector('[data-testid="service-account-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const post = http.expectOne('/api/admin/service-accounts');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ username: 'report-bot', description: 'Nightly reports' });
    post.flush({ id: 5, username: 'report-bot' }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    const list = http.expectOne((r) => r.url === '/api/admin/users');
    expect(list.request.params.get('query')).toBe('report-bot');
    list.flush({ items: [user(5, 'report-bot', { totp: false, passkeys: 0, serviceAccount: true })], page: 1, limit: 10, total: 1 });
    await settle(fixture);
    http.expectOne('/api/admin/users/5/api-keys').flush({ items: [] });
    http.expectOne('/api/admin/users/5/rights').flush({ id: 5, username: 'report-bot', roles: [], groups: [], permissions: [] });
    await settle(fixture);
    expect(said('admin-notice')).toBe(
      'Service account report-bot created: make it a key below.',
    );
    expect((fixture.nativeElement.querySelector('#user-search') as HTMLInputElement).value).toBe('report-bot');
    expect(fixture.nativeElement.querySelector('tr[data-keys-of="report-bot"] [data-testid="api-keys-card"]')).not.toBeNull();
  });
});
