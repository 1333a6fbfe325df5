import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { FormControl } from '@angular/forms';

import { newProviderBody, providerChange, providerUrl, words } from './provider-form';
import { Providers } from './providers';

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
const row = (fixture: ComponentFixture<unknown>, id: string) => el(fixture, `tr[data-provider="${id}"]`) as HTMLElement;
const cell = (fixture: ComponentFixture<unknown>, id: string, testId: string) =>
  row(fixture, id).querySelector(`[data-testid="${testId}"]`)?.textContent?.trim().replace(/\s+/g, ' ');

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement | HTMLTextAreaElement;
  expect(input, selector).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

async function choose(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const select = el(fixture, selector) as HTMLSelectElement;
  expect(select, selector).not.toBeNull();
  select.value = value;
  select.dispatchEvent(new Event('change'));
  await settle(fixture);
}

async function click(fixture: ComponentFixture<unknown>, selector: string, within?: HTMLElement) {
  const button = ((within ?? fixture.nativeElement) as HTMLElement).querySelector(selector) as HTMLElement;
  expect(button, selector).not.toBeNull();
  button.click();
  await settle(fixture);
}

function submit(fixture: ComponentFixture<unknown>, testId: string) {
  (el(fixture, `[data-testid="${testId}"]`) as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const provider = (id: string, extra: object = {}) => ({
  id,
  kind: 'oidc',
  displayName: id.toUpperCase(),
  icon: null,
  issuer: `https://${id}.example`,
  baseUrl: null,
  tenant: null,
  authorizationEndpoint: null,
  tokenEndpoint: null,
  userinfoEndpoint: null,
  claims: null,
  clientId: 'portcullis',
  teamId: null,
  keyId: null,
  scopes: ['openid', 'email', 'profile'],
  signup: 'existing',
  allowedDomains: [],
  trustedForMfa: false,
  hasSecret: true,
  enabled: true,
  identities: 0,
  createdAt: 1767225600000,
  updatedAt: 1767225600000,
  ...extra,
});
const ACME = provider('acme', { displayName: 'Acme SSO', identities: 2 });
const HUB = provider('hub', {
  kind: 'github',
  displayName: 'GitHub',
  issuer: null,
  enabled: false,
  signup: 'domains',
  allowedDomains: ['example.com', 'example.org'],
  trustedForMfa: true,
});
const NO_CONTENT = { status: 204, statusText: 'No Content' };
const IN_USE = {
  message: '2 account(s) have an identity at provider acme: delete with cascade to unlink them.',
  code: 'in_use',
};

describe('Providers', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(items: object[] = [ACME, HUB]) {
    const fixture = TestBed.createComponent(Providers);
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Loading providers…');
    const get = http.expectOne('/api/admin/providers');
    expect(get.request.method).toBe('GET');
    get.flush({ items });
    await settle(fixture);
    return fixture;
  }

  it('lists the providers: id, kind, name, on or off, who gets an account, linked accounts', async () => {
    const fixture = await render();
    expect(cell(fixture, 'acme', 'provider-id')).toBe('acme');
    expect(cell(fixture, 'acme', 'provider-kind')).toBe('oidc');
    expect(cell(fixture, 'acme', 'provider-name')).toBe('Acme SSO');
    expect(cell(fixture, 'acme', 'provider-state')).toBe('On');
    expect(cell(fixture, 'acme', 'provider-signup')).toBe('existing');
    expect(cell(fixture, 'acme', 'provider-identities')).toBe('2');
    expect(cell(fixture, 'hub', 'provider-kind')).toBe('github');
    expect(cell(fixture, 'hub', 'provider-state')).toBe('Off');
    expect(cell(fixture, 'hub', 'provider-signup')).toBe('domains (example.com, example.org)');
    expect(row(fixture, 'hub').textContent).toContain('both factors');
    expect(row(fixture, 'acme').querySelector('[data-testid="disable-provider"]')).not.toBeNull();
    expect(row(fixture, 'hub').querySelector('[data-testid="enable-provider"]')).not.toBeNull();
  });

  it('says when there are none', async () => {
    const fixture = await render([]);
    expect(text(fixture, 'providers-empty')).toBe('No identity providers yet: people sign in here only.');
  });

  it('configures an OpenID Connect provider: its issuer, the client, an optional secret', async () => {
    const fixture = await render([HUB]);
    // The kind's settings only.
    expect(el(fixture, '#provider-issuer')).not.toBeNull();
    expect(el(fixture, '#provider-authorization')).toBeNull();
    expect(el(fixture, '#provider-team-id')).toBeNull();
    expect(el(fixture, '#provider-domains')).toBeNull();
    await type(fixture, '#provider-id', 'acme');
    await type(fixture, '#provider-name', 'Acme SSO');
    await type(fixture, '#provider-issuer', 'https://sso.acme.example');
    await type(fixture, '#provider-client-id', 'portcullis');
    await type(fixture, '#provider-client-secret', 's3cret');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({
      id: 'acme',
      kind: 'oidc',
      displayName: 'Acme SSO',
      issuer: 'https://sso.acme.example',
      clientId: 'portcullis',
      clientSecret: 's3cret',
      signup: 'existing',
      trustedForMfa: false,
      enabled: true,
    });
    post.flush(ACME, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(text(fixture, 'providers-notice')).toBe('Provider Acme SSO (acme) configured: its button shows on the login page.');
    expect(Array.from(fixture.nativeElement.querySelectorAll('tr[data-provider]')).map((r) => (r as HTMLElement).dataset['provider'])).toEqual([
      'acme',
      'hub',
    ]);
    // The form is empty again, the secret first of all.
    expect((el(fixture, '#provider-client-secret') as HTMLInputElement).value).toBe('');
    expect((el(fixture, '#provider-id') as HTMLInputElement).value).toBe('');
  });

  it('sends nothing without what the kind requires', async () => {
    const fixture = await render();
    await type(fixture, '#provider-id', 'Not An Id');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    for (const id of ['#provider-id', '#provider-name', '#provider-client-id', '#provider-issuer']) {
      expect(el(fixture, id)?.classList, id).toContain('is-invalid');
    }
    // A public OpenID Connect client needs no secret.
    expect(el(fixture, '#provider-client-secret')?.classList).not.toContain('is-invalid');
  });

  it('a preset (GitHub) takes no issuer and requires the secret', async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'github');
    expect(el(fixture, '#provider-issuer')).toBeNull();
    await type(fixture, '#provider-id', 'gh');
    await type(fixture, '#provider-name', 'GitHub');
    await type(fixture, '#provider-client-id', 'Iv1.abc');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-client-secret')?.classList).toContain('is-invalid');
    await type(fixture, '#provider-client-secret', 'gh-secret');
    await choose(fixture, '#provider-signup', 'open');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toEqual({
      id: 'gh',
      kind: 'github',
      displayName: 'GitHub',
      clientId: 'Iv1.abc',
      clientSecret: 'gh-secret',
      signup: 'open',
      trustedForMfa: false,
      enabled: true,
    });
    post.flush(provider('gh', { kind: 'github', displayName: 'GitHub', signup: 'open' }), { status: 201, statusText: 'Created' });
    await settle(fixture);
  });

  it('GitHub takes an optional GitHub Enterprise Server URL, sent when given', async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'github');
    expect(el(fixture, 'label[for="provider-base-url"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'GitHub Enterprise Server URL (optional: default github.com)',
    );
    await type(fixture, '#provider-id', 'ghe');
    await type(fixture, '#provider-name', 'GitHub Enterprise');
    await type(fixture, '#provider-base-url', 'https://github.example.com');
    await type(fixture, '#provider-client-id', 'Iv1.abc');
    await type(fixture, '#provider-client-secret', 'gh-secret');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toEqual({
      id: 'ghe',
      kind: 'github',
      displayName: 'GitHub Enterprise',
      baseUrl: 'https://github.example.com',
      clientId: 'Iv1.abc',
      clientSecret: 'gh-secret',
      signup: 'existing',
      trustedForMfa: false,
      enabled: true,
    });
    post.flush(provider('ghe', { kind: 'github', displayName: 'GitHub Enterprise', issuer: null, baseUrl: 'https://github.example.com' }), {
      status: 201,
      statusText: 'Created',
    });
    await settle(fixture);
    expect(text(fixture, 'providers-notice')).toBe('Provider GitHub Enterprise (ghe) configured: its button shows on the login page.');
  });

  it('a base URL in plain http off this machine, or with a query, is refused before sending', async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'microsoft');
    expect(el(fixture, 'label[for="provider-base-url"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Authority host (optional: a national cloud, default https://login.microsoftonline.com)',
    );
    expect(el(fixture, '#provider-issuer')).toBeNull();
    await type(fixture, '#provider-id', 'ms');
    await type(fixture, '#provider-name', 'Microsoft');
    await type(fixture, '#provider-client-id', 'app');
    await type(fixture, '#provider-client-secret', 'ms-secret');
    await type(fixture, '#provider-base-url', 'http://login.microsoftonline.us');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-base-url')?.classList).toContain('is-invalid');
    expect(el(fixture, '#provider-base-url + .invalid-feedback')?.textContent?.trim()).toBe(
      'An https URL (http only on this machine) without a query, at most 512 characters.',
    );
    await type(fixture, '#provider-base-url', 'https://login.microsoftonline.us/?tenant=x');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-base-url')?.classList).toContain('is-invalid');
    // http is fine on this machine (a stand-in provider).
    await type(fixture, '#provider-base-url', 'http://127.0.0.1:8089');
    await settle(fixture);
    expect(el(fixture, '#provider-base-url')?.classList).not.toContain('is-invalid');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toMatchObject({ kind: 'microsoft', baseUrl: 'http://127.0.0.1:8089' });
    post.flush(provider('ms', { kind: 'microsoft', issuer: null, baseUrl: 'http://127.0.0.1:8089' }), { status: 201, statusText: 'Created' });
    await settle(fixture);
  });

  it('Google takes an optional issuer (a proxy), and sends none when it is left empty', async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'google');
    expect(el(fixture, '#provider-base-url')).toBeNull();
    expect(el(fixture, 'label[for="provider-issuer"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Issuer URL (optional: a proxy; default https://accounts.google.com)',
    );
    await type(fixture, '#provider-id', 'google');
    await type(fixture, '#provider-name', 'Google');
    await type(fixture, '#provider-client-id', 'web.apps.googleusercontent.com');
    await type(fixture, '#provider-client-secret', 'g-secret');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toEqual({
      id: 'google',
      kind: 'google',
      displayName: 'Google',
      clientId: 'web.apps.googleusercontent.com',
      clientSecret: 'g-secret',
      signup: 'existing',
      trustedForMfa: false,
      enabled: true,
    });
    expect('issuer' in post.request.body).toBe(false);
    expect(el(fixture, '#provider-issuer')?.classList).not.toContain('is-invalid');
    post.flush(provider('google', { kind: 'google', displayName: 'Google', issuer: null }), { status: 201, statusText: 'Created' });
    await settle(fixture);
  });

  it("Apple's optional issuer is sent when given", async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'apple');
    expect(el(fixture, 'label[for="provider-issuer"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Issuer URL (optional: a proxy; default https://appleid.apple.com)',
    );
    await type(fixture, '#provider-id', 'apple');
    await type(fixture, '#provider-name', 'Apple');
    await type(fixture, '#provider-client-id', 'com.example.web');
    await type(fixture, '#provider-team-id', 'ABCDE12345');
    await type(fixture, '#provider-key-id', 'KEY0123456');
    await type(fixture, '#provider-client-secret', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----');
    await type(fixture, '#provider-issuer', 'https://apple-proxy.example.com');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toMatchObject({ kind: 'apple', issuer: 'https://apple-proxy.example.com', teamId: 'ABCDE12345' });
    post.flush(provider('apple', { kind: 'apple', issuer: 'https://apple-proxy.example.com' }), { status: 201, statusText: 'Created' });
    await settle(fixture);
  });

  it('an OAuth 2 provider takes its three endpoints and the claims pointers', async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'oauth2');
    expect(el(fixture, '#provider-issuer')).toBeNull();
    await type(fixture, '#provider-id', 'forge');
    await type(fixture, '#provider-name', 'Forge');
    await type(fixture, '#provider-client-id', 'c1');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    for (const id of ['#provider-authorization', '#provider-token', '#provider-userinfo', '#provider-claim-id']) {
      expect(el(fixture, id)?.classList, id).toContain('is-invalid');
    }
    await type(fixture, '#provider-authorization', 'https://forge.example/oauth/authorize');
    await type(fixture, '#provider-token', 'https://forge.example/oauth/token');
    await type(fixture, '#provider-userinfo', 'https://forge.example/api/user');
    await type(fixture, '#provider-claim-id', '/id');
    await type(fixture, '#provider-claim-email', '/email');
    await type(fixture, '#provider-scopes', 'read:user, user:email');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toEqual({
      id: 'forge',
      kind: 'oauth2',
      displayName: 'Forge',
      clientId: 'c1',
      authorizationEndpoint: 'https://forge.example/oauth/authorize',
      tokenEndpoint: 'https://forge.example/oauth/token',
      userinfoEndpoint: 'https://forge.example/api/user',
      claims: { id: '/id', username: null, email: '/email', emailVerified: null },
      scopes: ['read:user', 'user:email'],
      signup: 'existing',
      trustedForMfa: false,
      enabled: true,
    });
    post.flush({ message: 'authorizationEndpoint must be an https URL (http only on a loopback host).', code: 'invalid_request' }, {
      status: 400,
      statusText: 'Bad Request',
    });
    await settle(fixture);
    expect(text(fixture, 'provider-create-error')).toBe('authorizationEndpoint must be an https URL (http only on a loopback host).');
    // What was typed stays to be corrected, but the secret is not kept.
    expect((el(fixture, '#provider-id') as HTMLInputElement).value).toBe('forge');
  });

  it('Apple takes its team and key ids, and its key as the secret', async () => {
    const fixture = await render();
    await choose(fixture, '#provider-kind', 'apple');
    expect(el(fixture, 'textarea#provider-client-secret')).not.toBeNull();
    await type(fixture, '#provider-id', 'apple');
    await type(fixture, '#provider-name', 'Apple');
    await type(fixture, '#provider-client-id', 'com.example.web');
    await type(fixture, '#provider-team-id', 'ABCDE12345');
    await type(fixture, '#provider-key-id', 'short');
    await type(fixture, '#provider-client-secret', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-key-id')?.classList).toContain('is-invalid');
    await type(fixture, '#provider-key-id', 'KEY0123456');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toMatchObject({
      kind: 'apple',
      teamId: 'ABCDE12345',
      keyId: 'KEY0123456',
      clientSecret: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
    });
    expect(post.request.body.issuer).toBeUndefined();
    post.flush(provider('apple', { kind: 'apple', issuer: null }), { status: 201, statusText: 'Created' });
    await settle(fixture);
  });

  it('sign-up by domains needs at least one domain', async () => {
    const fixture = await render();
    await type(fixture, '#provider-id', 'acme2');
    await type(fixture, '#provider-name', 'Acme');
    await type(fixture, '#provider-issuer', 'https://sso.acme.example');
    await type(fixture, '#provider-client-id', 'portcullis');
    await choose(fixture, '#provider-signup', 'domains');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-domains')?.classList).toContain('is-invalid');
    await type(fixture, '#provider-domains', 'acme.example, acme.test');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toMatchObject({ signup: 'domains', allowedDomains: ['acme.example', 'acme.test'] });
    expect(post.request.body.clientSecret).toBeUndefined();
    post.flush(provider('acme2'), { status: 201, statusText: 'Created' });
    await settle(fixture);
  });

  it('turns a provider off and on with PATCH {enabled}', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="disable-provider"]', row(fixture, 'acme'));
    const off = http.expectOne('/api/admin/providers/acme');
    expect(off.request.method).toBe('PATCH');
    expect(off.request.body).toEqual({ enabled: false });
    off.flush({ ...ACME, enabled: false });
    await settle(fixture);
    expect(cell(fixture, 'acme', 'provider-state')).toBe('Off');
    expect(text(fixture, 'providers-notice')).toBe('Acme SSO is off: nobody signs in with it.');
    await click(fixture, '[data-testid="enable-provider"]', row(fixture, 'acme'));
    const on = http.expectOne('/api/admin/providers/acme');
    expect(on.request.body).toEqual({ enabled: true });
    on.flush(ACME);
    await settle(fixture);
    expect(cell(fixture, 'acme', 'provider-state')).toBe('On');
  });

  it('edits what changed only: name, sign-up and domains, both factors, a new secret', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'acme'));
    expect((el(fixture, '#edit-provider-name') as HTMLInputElement).value).toBe('Acme SSO');
    expect((el(fixture, '#edit-provider-secret') as HTMLInputElement).value).toBe('');
    // Nothing changed: nothing sent.
    submit(fixture, 'provider-edit-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers/acme');
    expect(el(fixture, '[data-testid="provider-edit-form"]')).toBeNull();

    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'acme'));
    await type(fixture, '#edit-provider-name', 'Acme');
    await choose(fixture, '#edit-provider-signup', 'domains');
    await type(fixture, '#edit-provider-domains', 'acme.example');
    (el(fixture, '#edit-provider-mfa') as HTMLInputElement).click();
    await type(fixture, '#edit-provider-secret', 'rotated');
    submit(fixture, 'provider-edit-form');
    const patch = http.expectOne('/api/admin/providers/acme');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({
      displayName: 'Acme',
      signup: 'domains',
      allowedDomains: ['acme.example'],
      trustedForMfa: true,
      clientSecret: 'rotated',
    });
    patch.flush({ ...ACME, displayName: 'Acme', signup: 'domains', allowedDomains: ['acme.example'], trustedForMfa: true });
    await settle(fixture);
    expect(cell(fixture, 'acme', 'provider-name')).toBe('Acme');
    expect(cell(fixture, 'acme', 'provider-signup')).toBe('domains (acme.example)');
    expect(text(fixture, 'providers-notice')).toBe('Provider Acme (acme) saved.');
    expect(el(fixture, '[data-testid="provider-edit-form"]')).toBeNull();
  });

  it("an edit the server refuses keeps the form open with the server's words", async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'hub'));
    expect((el(fixture, '#edit-provider-domains') as HTMLInputElement).value).toBe('example.com, example.org');
    await choose(fixture, '#edit-provider-signup', 'open');
    submit(fixture, 'provider-edit-form');
    const patch = http.expectOne('/api/admin/providers/hub');
    expect(patch.request.body).toEqual({ signup: 'open', allowedDomains: [] });
    patch.flush({ message: 'Database unavailable.', code: 'unavailable' }, { status: 503, statusText: 'Service Unavailable' });
    await settle(fixture);
    expect(text(fixture, 'provider-edit-error')).toBe('Database unavailable.');
    expect(el(fixture, '[data-testid="provider-edit-form"]')).not.toBeNull();
  });

  it('deletes after a confirmation; one accounts are linked through is deleted only by "Delete and unlink"', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="delete-provider"]', row(fixture, 'acme'));
    http.expectNone((r) => r.method === 'DELETE');
    await click(fixture, '[data-testid="confirm-delete-provider"]', row(fixture, 'acme'));
    const first = http.expectOne((r) => r.url === '/api/admin/providers/acme');
    expect(first.request.method).toBe('DELETE');
    expect(first.request.params.has('cascade')).toBe(false);
    first.flush(IN_USE, { status: 409, statusText: 'Conflict' });
    await settle(fixture);
    expect(text(fixture, 'providers-error')).toContain(`acme: ${IN_USE.message}`);
    expect(row(fixture, 'acme')).not.toBeNull();

    await click(fixture, '[data-testid="delete-provider-cascade"]');
    const cascade = http.expectOne((r) => r.url === '/api/admin/providers/acme');
    expect(cascade.request.method).toBe('DELETE');
    expect(cascade.request.params.get('cascade')).toBe('true');
    cascade.flush(null, NO_CONTENT);
    await settle(fixture);
    expect(row(fixture, 'acme')).toBeNull();
    expect(el(fixture, '[data-testid="providers-error"]')).toBeNull();
    expect(text(fixture, 'providers-notice')).toBe('Provider Acme SSO (acme) deleted.');
  });

  it('deletes one nobody is linked through at once', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="delete-provider"]', row(fixture, 'hub'));
    await click(fixture, '[data-testid="confirm-delete-provider"]', row(fixture, 'hub'));
    http.expectOne((r) => r.url === '/api/admin/providers/hub' && r.method === 'DELETE').flush(null, NO_CONTENT);
    await settle(fixture);
    expect(row(fixture, 'hub')).toBeNull();
  });
});

describe('provider form helpers', () => {
  it('words splits on commas, spaces and lines', () => {
    expect(words(' a.example,b.example\n c.example  ,, ')).toEqual(['a.example', 'b.example', 'c.example']);
  });

  it("a new provider's body leaves out the settings of other kinds", () => {
    const body = newProviderBody({
      kind: 'microsoft',
      id: 'ms',
      displayName: 'Microsoft',
      icon: '',
      clientId: 'app',
      clientSecret: 'x',
      issuer: 'https://left.over',
      baseUrl: 'https://login.microsoftonline.us',
      tenant: 'organizations',
      authorizationEndpoint: 'https://left.over',
      tokenEndpoint: '',
      userinfoEndpoint: '',
      claimId: '/id',
      claimUsername: '',
      claimEmail: '',
      claimEmailVerified: '',
      teamId: 'ABCDE12345',
      keyId: '',
      scopes: '',
      signup: 'existing',
      allowedDomains: 'left.over',
      trustedForMfa: false,
      enabled: false,
    });
    expect(body).toEqual({
      id: 'ms',
      kind: 'microsoft',
      displayName: 'Microsoft',
      clientId: 'app',
      clientSecret: 'x',
      baseUrl: 'https://login.microsoftonline.us',
      tenant: 'organizations',
      signup: 'existing',
      trustedForMfa: false,
      enabled: false,
    });
  });

  it('a URL is https, or http on this machine, without credentials or a fragment; a base URL has no query', () => {
    const valid = (value: string, query = true) => providerUrl(query)(new FormControl(value)) === null;
    for (const ok of [
      '',
      'https://sso.example.com',
      'https://sso.example.com/realms/acme?x=1',
      'http://localhost:8089',
      'http://LOCALHOST/',
      'http://127.0.0.1:8089/',
      'http://127.9.9.9',
      'http://[::1]:8089',
    ]) {
      expect(valid(ok), ok).toBe(true);
    }
    for (const bad of [
      'sso.example.com',
      'ftp://sso.example.com',
      'http://sso.example.com',
      'http://localhost.example.com',
      'http://127.0.0.1.example.com',
      'https://user:pw@sso.example.com',
      'https://user@sso.example.com',
      'https://sso.example.com/#x',
      'https://sso.example.com/#',
      'https://sso example.com',
      'https://',
    ]) {
      expect(valid(bad), bad).toBe(false);
    }
    expect(valid('https://github.example.com/', false)).toBe(true);
    expect(valid('https://github.example.com/?a=b', false)).toBe(false);
    expect(valid('https://github.example.com/?', false)).toBe(false);
  });

  it('a change names nothing that stayed', () => {
    expect(
      providerChange(HUB as never, {
        displayName: 'GitHub',
        signup: 'domains',
        allowedDomains: 'example.com,example.org',
        trustedForMfa: true,
        clientSecret: '  ',
      }),
    ).toEqual({});
  });
});
