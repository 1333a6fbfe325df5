import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { AuthService } from '../core/auth.service';
import { ALICE, setUpHttp } from '../../testing/http-testing';
import { ApiKeysCard, keyStatus } from './api-keys-card';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const text = (fixture: ComponentFixture<unknown>, testId: string) =>
  el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim().replace(/\s+/g, ' ');
const texts = (fixture: ComponentFixture<unknown>, testId: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(`[data-testid="${testId}"]`) as NodeListOf<HTMLElement>).map((e) =>
    e.textContent?.trim().replace(/\s+/g, ' '),
  );
const item = (fixture: ComponentFixture<unknown>, name: string) =>
  el(fixture, `[data-testid="api-key"][data-key-name="${name}"]`) as HTMLElement;

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

async function tick(fixture: ComponentFixture<unknown>, selector: string) {
  const box = el(fixture, selector) as HTMLInputElement;
  expect(box).not.toBeNull();
  box.click();
  await fixture.whenStable();
}

function submit(fixture: ComponentFixture<unknown>) {
  (el(fixture, '[data-testid="api-key-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const FUTURE = '2099-01-01T00:00:00Z';
const SCRIPT = {
  id: 3,
  name: 'billing script',
  prefix: 'pck_Xy3kQ9ab',
  roles: ['billing'],
  permissions: ['invoices:write'],
  createdAt: '2026-02-03T04:05:06Z',
  expiresAt: FUTURE,
  lastUsedAt: '2026-02-04T00:00:00Z',
  revokedAt: null,
  createdBy: null,
};
const OLD = { ...SCRIPT, id: 2, name: 'old', prefix: 'pck_0ld0ld0l', roles: [], permissions: [], lastUsedAt: null, revokedAt: '2026-01-05T00:00:00Z' };
const LAPSED = { ...OLD, id: 1, name: 'lapsed', prefix: 'pck_1apsed00', revokedAt: null, expiresAt: '2026-01-01T00:00:00Z' };
const KEY = 'pck_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg';

describe('keyStatus', () => {
  it('is revoked, expired or active', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(keyStatus(SCRIPT, now)).toBe('active');
    expect(keyStatus(OLD, now)).toBe('revoked');
    expect(keyStatus(LAPSED, now)).toBe('expired');
  });
});

describe('ApiKeysCard: the account’s own keys', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => {
    http.verify();
    Reflect.deleteProperty(navigator, 'clipboard');
  });

  /** The card for ALICE, who holds the role billing and the permission invoices:write. */
  async function render(items: object[] = [SCRIPT, OLD, LAPSED]) {
    const auth = TestBed.inject(AuthService);
    const loading = auth.load();
    http
      .expectOne('/api/auth/me')
      .flush({ ...ALICE, roles: ['ROLE_USER', 'ROLE_BILLING'], groups: ['finance'], permissions: ['invoices:write'] });
    await loading;
    const fixture = TestBed.createComponent(ApiKeysCard);
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Loading API keys…');
    const get = http.expectOne('/api/auth/api-keys');
    expect(get.request.method).toBe('GET');
    expect(get.request.withCredentials).toBe(true);
    get.flush({ items });
    await settle(fixture);
    return fixture;
  }

  it('lists the keys: name, prefix, roles and permissions, dates and whether each still works', async () => {
    const fixture = await render();
    expect(texts(fixture, 'api-key-name')).toEqual(['billing script', 'old', 'lapsed']);
    expect(texts(fixture, 'api-key-prefix')).toEqual(['pck_Xy3kQ9ab…', 'pck_0ld0ld0l…', 'pck_1apsed00…']);
    expect(texts(fixture, 'api-key-status')).toEqual(['Active', 'Revoked', 'Expired']);
    const within = (name: string, testId: string) =>
      Array.from(item(fixture, name).querySelectorAll(`[data-testid="${testId}"]`)).map((e) => e.textContent?.trim());
    expect(within('billing script', 'api-key-role')).toEqual(['billing']);
    expect(within('billing script', 'api-key-permission')).toEqual(['invoices:write']);
    expect(item(fixture, 'old').textContent).toContain('Only the user role');
    expect(item(fixture, 'billing script').textContent).toContain('last used Feb 4, 2026');
    expect(item(fixture, 'old').textContent).toContain('revoked Jan 5, 2026');
    expect(item(fixture, 'old').textContent).toContain('never used yet');
    // Only a key that works can be revoked.
    expect(item(fixture, 'old').querySelector('[data-testid="api-key-revoke"]')).toBeNull();
    expect(item(fixture, 'lapsed').querySelector('[data-testid="api-key-revoke"]')).not.toBeNull();
  });

  it('an empty list says so', async () => {
    const fixture = await render([]);
    expect(text(fixture, 'api-keys-empty')).toBe('No API keys yet.');
  });

  it('offers the roles (not user) and permissions of /me, and creates a key with those ticked; the key is shown once', async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const fixture = await render([]);
    const roles = Array.from(fixture.nativeElement.querySelectorAll('[data-testid="api-key-pick-role"]') as NodeListOf<HTMLElement>);
    expect(roles.map((r) => r.dataset['role'])).toEqual(['billing']);
    const permissions = Array.from(fixture.nativeElement.querySelectorAll('[data-testid="api-key-pick-permission"]') as NodeListOf<HTMLElement>);
    expect(permissions.map((p) => p.dataset['permission'])).toEqual(['invoices:write']);
    expect((el(fixture, '#api-key-days') as HTMLInputElement).value).toBe('90');
    expect(el(fixture, 'label[for="api-key-name"]')?.textContent?.trim()).toBe('Name');

    await type(fixture, '#api-key-name', '  billing script ');
    await type(fixture, '#api-key-days', '30');
    await tick(fixture, '[data-testid="api-key-pick-permission"][data-permission="invoices:write"]');
    submit(fixture);
    const post = http.expectOne('/api/auth/api-keys');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ name: 'billing script', expiresInDays: 30, roles: [], permissions: ['invoices:write'] });
    post.flush({ ...SCRIPT, roles: [], key: KEY }, { status: 201, statusText: 'Created' });
    await settle(fixture);

    expect(text(fixture, 'api-key-created')).toContain('It will not be shown again');
    expect(text(fixture, 'api-key-secret')).toBe(KEY);
    expect(texts(fixture, 'api-key-name')).toEqual(['billing script']);
    // The list never holds the key.
    expect(item(fixture, 'billing script').textContent).not.toContain(KEY);
    // The form is back to its defaults.
    expect((el(fixture, '#api-key-name') as HTMLInputElement).value).toBe('');
    expect((el(fixture, '#api-key-days') as HTMLInputElement).value).toBe('90');
    expect((el(fixture, '[data-testid="api-key-pick-permission"]') as HTMLInputElement).checked).toBe(false);

    (el(fixture, '[data-testid="copy-api-key"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(writeText).toHaveBeenCalledExactlyOnceWith(KEY);
    expect(text(fixture, 'api-key-copied')).toBe('Copied.');

    (el(fixture, '[data-testid="dismiss-api-key"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(el(fixture, '[data-testid="api-key-created"]')).toBeNull();
    expect(fixture.nativeElement.textContent).not.toContain(KEY);
  });

  it('a name is needed; a refused creation shows the server message', async () => {
    const fixture = await render([]);
    submit(fixture);
    await settle(fixture);
    http.expectNone('/api/auth/api-keys');
    expect((el(fixture, '#api-key-name') as HTMLInputElement).classList).toContain('is-invalid');

    await type(fixture, '#api-key-name', 'too much');
    await tick(fixture, '[data-testid="api-key-pick-role"][data-role="billing"]');
    submit(fixture);
    const post = http.expectOne('/api/auth/api-keys');
    expect(post.request.body).toEqual({ name: 'too much', expiresInDays: 90, roles: ['billing'], permissions: [] });
    post.flush({ message: 'The account does not hold the role billing.', code: 'forbidden' }, { status: 403, statusText: 'Forbidden' });
    await settle(fixture);
    expect(text(fixture, 'api-key-create-error')).toBe('The account does not hold the role billing.');
    expect(el(fixture, '[data-testid="api-key-created"]')).toBeNull();
  });

  it('without a recent sign-in asks for the password, then creates the key with {password}', async () => {
    const fixture = await render([]);
    await type(fixture, '#api-key-name', 'ci');
    submit(fixture);
    const first = http.expectOne('/api/auth/api-keys');
    expect(first.request.body).toEqual({ name: 'ci', expiresInDays: 90, roles: [], permissions: [] });
    first.flush(
      { message: 'Sign in again, or give your password, to do this.', code: 'reauthentication_required' },
      { status: 403, statusText: 'Forbidden' },
    );
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')?.textContent).toContain('Create the API key “ci”');
    expect(el(fixture, '[data-testid="api-key-create-error"]')).toBeNull();
    expect((el(fixture, '[data-testid="create-api-key"]') as HTMLButtonElement).disabled).toBe(false);

    await type(fixture, '#api-key-reauth-password', 'my password');
    (el(fixture, '[data-testid="reauth-confirm"]') as HTMLButtonElement).click();
    const again = http.expectOne('/api/auth/api-keys');
    expect(again.request.method).toBe('POST');
    expect(again.request.body).toEqual({ name: 'ci', expiresInDays: 90, roles: [], permissions: [], password: 'my password' });
    again.flush({ ...SCRIPT, name: 'ci', roles: [], permissions: [], key: KEY }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    expect(text(fixture, 'api-key-secret')).toBe(KEY);
  });

  it('revokes after a confirmation, with DELETE: the key stays listed as revoked', async () => {
    const fixture = await render([SCRIPT]);
    (item(fixture, 'billing script').querySelector('[data-testid="api-key-revoke"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectNone((r) => r.method === 'DELETE');
    expect(item(fixture, 'billing script').textContent).toContain('Revoke it? It stops working at once.');
    (el(fixture, '[data-testid="api-key-confirm-revoke"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/auth/api-keys/3');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, { status: 204, statusText: 'No Content' });
    await settle(fixture);
    expect(texts(fixture, 'api-key-status')).toEqual(['Revoked']);
    expect(el(fixture, '[data-testid="api-key-revoke"]')).toBeNull();
    expect(text(fixture, 'api-keys-notice')).toBe('The key “billing script” is revoked: it no longer works.');
  });
});

describe('ApiKeysCard: a service account’s keys, for an admin', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  it('lists, offers what the account holds (no application role), creates and revokes through the admin API', async () => {
    const fixture = TestBed.createComponent(ApiKeysCard);
    fixture.componentRef.setInput('userId', 9);
    fixture.componentRef.setInput('username', 'billing-bot');
    fixture.componentRef.setInput('prefix', 'sa-key');
    await fixture.whenStable();
    http.expectOne('/api/admin/users/9/api-keys').flush({ items: [{ ...SCRIPT, createdBy: 1 }] });
    http.expectOne('/api/admin/users/9/rights').flush({
      id: 9,
      username: 'billing-bot',
      roles: [
        { name: 'user', clientId: null, from: ['own'] },
        { name: 'billing', clientId: null, from: ['own', 'finance'] },
        { name: 'notes-editor', clientId: 'c_notes', from: ['own'] },
      ],
      groups: ['finance'],
      permissions: [
        { name: 'invoices:write', clientId: null, roles: ['billing'] },
        { name: 'notes:edit', clientId: 'c_notes', roles: ['notes-editor'] },
      ],
    });
    await settle(fixture);
    expect(el(fixture, 'h2')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('API keys of billing-bot');
    expect(texts(fixture, 'api-key-name')).toEqual(['billing script']);
    const roles = Array.from(fixture.nativeElement.querySelectorAll('[data-testid="api-key-pick-role"]') as NodeListOf<HTMLElement>);
    expect(roles.map((r) => r.dataset['role'])).toEqual(['billing']);
    const permissions = Array.from(fixture.nativeElement.querySelectorAll('[data-testid="api-key-pick-permission"]') as NodeListOf<HTMLElement>);
    expect(permissions.map((p) => p.dataset['permission'])).toEqual(['invoices:write']);

    await type(fixture, '#sa-key-name', 'nightly');
    await tick(fixture, '[data-testid="api-key-pick-role"][data-role="billing"]');
    submit(fixture);
    const post = http.expectOne('/api/admin/users/9/api-keys');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ name: 'nightly', expiresInDays: 90, roles: ['billing'], permissions: [] });
    post.flush({ ...SCRIPT, id: 4, name: 'nightly', permissions: [], key: KEY }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(text(fixture, 'api-key-secret')).toBe(KEY);
    expect(texts(fixture, 'api-key-name')).toEqual(['nightly', 'billing script']);

    (item(fixture, 'nightly').querySelector('[data-testid="api-key-revoke"]') as HTMLButtonElement).click();
    await settle(fixture);
    (el(fixture, '[data-testid="api-key-confirm-revoke"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/admin/users/9/api-keys/4');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, { status: 204, statusText: 'No Content' });
    await settle(fixture);
    expect(texts(fixture, 'api-key-status')).toEqual(['Revoked', 'Active']);
    // The key just made is forgotten once revoked.
    expect(el(fixture, '[data-testid="api-key-created"]')).toBeNull();
  });
});
