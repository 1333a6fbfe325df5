import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { FormControl } from '@angular/forms';

import { mappingBody, newProviderBody, providerChange, providerUrl, ruleForm, suggestions, words } from './provider-form';
import { Providers } from './providers';
import { said } from './notices.testing';

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
  roleMapping: null,
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
const LAB = provider('lab', {
  kind: 'gitlab',
  displayName: 'GitLab',
  issuer: null,
  roleMapping: {
    claim: 'groups',
    rules: [
      { value: 'acme/ops', roles: ['moderator'], groups: ['ops'] },
      { value: 'acme/dev', roles: [], groups: ['dev', 'ops'] },
    ],
  },
});
const ROLES = ['user', 'moderator', 'admin', 'editor'].map((name) => ({ name, builtIn: name !== 'editor', groups: 0 }));
const GROUPS = ['ops', 'dev'].map((name) => ({ name, members: 0, roles: [] }));
const NO_CONTENT = { status: 204, statusText: 'No Content' };
const CREATED = { status: 201, statusText: 'Created' };
const BAD_REQUEST = { status: 400, statusText: 'Bad Request' };
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
    // The roles and groups that exist, offered in the mapping's fields.
    http.expectOne('/api/admin/roles').flush({ items: ROLES });
    http.expectOne('/api/admin/groups').flush({ items: GROUPS });
    await settle(fixture);
    return fixture;
  }

  /** Fills the create form's required fields for a GitLab provider `id`. */
  async function gitlab(fixture: ComponentFixture<unknown>, id = 'lab') {
    await choose(fixture, '#provider-kind', 'gitlab');
    await type(fixture, '#provider-id', id);
    await type(fixture, '#provider-name', 'GitLab');
    await type(fixture, '#provider-client-id', 'app-id');
    await type(fixture, '#provider-client-secret', 'gl-secret');
  }

  /** Adds a rule row to the form `prefix` names and types `rule` in it. */
  async function addRule(fixture: ComponentFixture<unknown>, prefix: string, index: number, rule: { value?: string; roles?: string; groups?: string }) {
    const form = el(fixture, prefix === 'provider' ? '[data-testid="provider-form"]' : '[data-testid="provider-edit-form"]') as HTMLElement;
    await click(fixture, '[data-testid="add-mapping-rule"]', form);
    if (rule.value !== undefined) await type(fixture, `#${prefix}-rule-value-${index}`, rule.value);
    if (rule.roles !== undefined) await type(fixture, `#${prefix}-rule-roles-${index}`, rule.roles);
    if (rule.groups !== undefined) await type(fixture, `#${prefix}-rule-groups-${index}`, rule.groups);
  }

  const inputValue = (fixture: ComponentFixture<unknown>, selector: string) => (el(fixture, selector) as HTMLInputElement | null)?.value;
  const ruleRows = (fixture: ComponentFixture<unknown>, within: string) =>
    (el(fixture, `[data-testid="${within}"]`) as HTMLElement).querySelectorAll('[data-testid="mapping-rule"]').length;

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
    expect(said('providers-notice')).toBe('Provider Acme SSO (acme) configured: its button shows on the login page.');
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
    expect(said('providers-notice')).toBe('Provider GitHub Enterprise (ghe) configured: its button shows on the login page.');
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
    expect(said('providers-notice')).toBe('Acme SSO is off: nobody signs in with it.');
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
    expect(said('providers-notice')).toBe('Provider Acme (acme) saved.');
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

  it('creates a GitLab provider whose groups give roles and groups: the filled rules are sent, an empty row is not', async () => {
    const fixture = await render();
    // Optional, and empty at first.
    expect(el(fixture, '[data-testid="provider-form"] [data-testid="mapping-empty"]')).not.toBeNull();
    expect(el(fixture, '[data-testid="provider-form"] legend')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Roles from the provider (optional)',
    );
    await gitlab(fixture);
    await type(fixture, '#provider-mapping-claim', 'groups');
    await addRule(fixture, 'provider', 0, { value: 'acme/ops', roles: 'moderator', groups: 'ops' });
    await addRule(fixture, 'provider', 1, { value: ' acme/dev ', roles: 'editor, moderator,moderator', groups: '' });
    await addRule(fixture, 'provider', 2, {});
    expect(ruleRows(fixture, 'provider-form')).toBe(3);
    expect(el(fixture, 'label[for="provider-rule-roles-1"]')?.textContent?.trim()).toBe('Roles');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body).toEqual({
      id: 'lab',
      kind: 'gitlab',
      displayName: 'GitLab',
      clientId: 'app-id',
      clientSecret: 'gl-secret',
      signup: 'existing',
      trustedForMfa: false,
      enabled: true,
      roleMapping: {
        claim: 'groups',
        rules: [
          { value: 'acme/ops', roles: ['moderator'], groups: ['ops'] },
          { value: 'acme/dev', roles: ['editor', 'moderator'], groups: [] },
        ],
      },
    });
    post.flush(
      provider('lab', {
        kind: 'gitlab',
        displayName: 'GitLab',
        issuer: null,
        roleMapping: {
          claim: 'groups',
          rules: [
            { value: 'acme/ops', roles: ['moderator'], groups: ['ops'] },
            { value: 'acme/dev', roles: ['editor', 'moderator'], groups: [] },
          ],
        },
      }),
      CREATED,
    );
    await settle(fixture);
    expect(cell(fixture, 'lab', 'provider-mapping')).toBe('Roles from groups: 2 rules (Moderator, Editor, group ops)');
    // The form is empty again, its rules too.
    expect(ruleRows(fixture, 'provider-form')).toBe(0);
    expect(inputValue(fixture, '#provider-mapping-claim')).toBe('');
  });

  it('sends no roleMapping when no rule row is filled', async () => {
    const fixture = await render();
    await gitlab(fixture);
    await type(fixture, '#provider-mapping-claim', 'groups');
    await addRule(fixture, 'provider', 0, { value: '  ', roles: ' , ' });
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect('roleMapping' in post.request.body).toBe(false);
    post.flush(provider('lab', { kind: 'gitlab', issuer: null }), CREATED);
    await settle(fixture);
  });

  it('a rule with a value but no roles or groups, or rules without a claim, are refused before sending', async () => {
    const fixture = await render();
    await gitlab(fixture);
    await addRule(fixture, 'provider', 0, { value: 'acme/ops' });
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(text(fixture, 'mapping-rule-error')).toBe('At least one role or group.');
    expect(el(fixture, '#provider-rule-roles-0')?.classList).toContain('is-invalid');
    expect(el(fixture, '#provider-rule-groups-0')?.getAttribute('aria-invalid')).toBe('true');
    expect(el(fixture, '#provider-rule-groups-0')?.getAttribute('aria-describedby')).toBe('provider-rule-error-0');
    expect(el(fixture, '#provider-rule-value-0')?.classList).not.toContain('is-invalid');
    // No claim was given.
    expect(el(fixture, '#provider-mapping-claim')?.classList).toContain('is-invalid');
    expect(el(fixture, '#provider-mapping-claim + .invalid-feedback')?.textContent?.trim()).toBe(
      "A claim's name, such as groups: 1 to 64 of A-Z, a-z, 0-9 and _ - . : /",
    );
    await type(fixture, '#provider-mapping-claim', 'the groups');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-mapping-claim')?.classList).toContain('is-invalid');

    // Roles without a value are refused too.
    await type(fixture, '#provider-mapping-claim', 'groups');
    await type(fixture, '#provider-rule-value-0', '');
    await type(fixture, '#provider-rule-roles-0', 'moderator');
    submit(fixture, 'provider-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers');
    expect(el(fixture, '#provider-rule-value-0')?.classList).toContain('is-invalid');
    expect(el(fixture, '[data-testid="mapping-rule-error"]')).toBeNull();
    expect(el(fixture, '#provider-mapping-claim')?.classList).not.toContain('is-invalid');

    await type(fixture, '#provider-rule-value-0', 'acme/ops');
    await settle(fixture);
    expect(el(fixture, '#provider-rule-value-0')?.classList).not.toContain('is-invalid');
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body.roleMapping).toEqual({ claim: 'groups', rules: [{ value: 'acme/ops', roles: ['moderator'], groups: [] }] });
    post.flush(provider('lab', { kind: 'gitlab', issuer: null }), CREATED);
    await settle(fixture);
  });

  it("GitHub's claim is orgs, fixed, and says it asks for read:org", async () => {
    const fixture = await render();
    expect(inputValue(fixture, '#provider-mapping-claim')).toBe('');
    expect((el(fixture, '#provider-mapping-claim') as HTMLInputElement).readOnly).toBe(false);
    await choose(fixture, '#provider-kind', 'github');
    const claim = el(fixture, '#provider-mapping-claim') as HTMLInputElement;
    expect(claim.value).toBe('orgs');
    expect(claim.readOnly).toBe(true);
    expect(text(fixture, 'mapping-claim-help')).toBe('GitHub organisations (asks for read:org)');
    expect(claim.getAttribute('aria-describedby')).toBe('provider-mapping-claim-help');
    await type(fixture, '#provider-id', 'gh');
    await type(fixture, '#provider-name', 'GitHub');
    await type(fixture, '#provider-client-id', 'Iv1.abc');
    await type(fixture, '#provider-client-secret', 'gh-secret');
    await addRule(fixture, 'provider', 0, { value: 'acme', groups: 'ops' });
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body.roleMapping).toEqual({ claim: 'orgs', rules: [{ value: 'acme', roles: [], groups: ['ops'] }] });
    post.flush(provider('gh', { kind: 'github', issuer: null, scopes: ['read:user', 'user:email', 'read:org'] }), CREATED);
    await settle(fixture);
    // Another kind's claim is typed again.
    await choose(fixture, '#provider-kind', 'github');
    expect(inputValue(fixture, '#provider-mapping-claim')).toBe('orgs');
    await choose(fixture, '#provider-kind', 'oidc');
    expect(inputValue(fixture, '#provider-mapping-claim')).toBe('');
    expect((el(fixture, '#provider-mapping-claim') as HTMLInputElement).readOnly).toBe(false);
  });

  it("the server's refusal of a role or group that does not exist is shown", async () => {
    const fixture = await render();
    await gitlab(fixture);
    await type(fixture, '#provider-mapping-claim', 'groups');
    await addRule(fixture, 'provider', 0, { value: 'acme/ops', roles: 'nobody' });
    submit(fixture, 'provider-form');
    const post = http.expectOne('/api/admin/providers');
    expect(post.request.body.roleMapping).toEqual({ claim: 'groups', rules: [{ value: 'acme/ops', roles: ['nobody'], groups: [] }] });
    post.flush({ message: 'roleMapping names the role nobody, which does not exist.', code: 'invalid_request' }, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'provider-create-error')).toBe('roleMapping names the role nobody, which does not exist.');
    // The rules stay to be corrected.
    expect(inputValue(fixture, '#provider-rule-roles-0')).toBe('nobody');
  });

  it('the roles and groups fields offer the names that exist, after those typed', async () => {
    const fixture = await render();
    await addRule(fixture, 'provider', 0, {});
    const options = (list: string) =>
      Array.from(fixture.nativeElement.querySelectorAll(`datalist#${list} option`)).map((o) => (o as HTMLOptionElement).value);
    expect(el(fixture, '#provider-rule-roles-0')?.getAttribute('list')).toBe('provider-rule-roles-list-0');
    expect(options('provider-rule-roles-list-0')).toEqual(['user', 'moderator', 'admin', 'editor']);
    expect(options('provider-rule-groups-list-0')).toEqual(['ops', 'dev']);
    await type(fixture, '#provider-rule-roles-0', 'moderator, ed');
    await settle(fixture);
    expect(options('provider-rule-roles-list-0')).toEqual(['moderator, user', 'moderator, admin', 'moderator, editor']);
  });

  it('lists a mapping in short, and its Edit shows the rules; removing them all sends roleMapping: null', async () => {
    const fixture = await render([ACME, LAB]);
    expect(cell(fixture, 'lab', 'provider-mapping')).toBe('Roles from groups: 2 rules (Moderator, group ops, group dev)');
    expect(row(fixture, 'acme').querySelector('[data-testid="provider-mapping"]')).toBeNull();
    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'lab'));
    expect(inputValue(fixture, '#edit-provider-mapping-claim')).toBe('groups');
    expect(ruleRows(fixture, 'provider-edit-form')).toBe(2);
    expect(inputValue(fixture, '#edit-provider-rule-value-0')).toBe('acme/ops');
    expect(inputValue(fixture, '#edit-provider-rule-roles-0')).toBe('moderator');
    expect(inputValue(fixture, '#edit-provider-rule-groups-0')).toBe('ops');
    expect(inputValue(fixture, '#edit-provider-rule-value-1')).toBe('acme/dev');
    expect(inputValue(fixture, '#edit-provider-rule-roles-1')).toBe('');
    expect(inputValue(fixture, '#edit-provider-rule-groups-1')).toBe('dev, ops');
    // Nothing changed: nothing sent.
    submit(fixture, 'provider-edit-form');
    await settle(fixture);
    http.expectNone('/api/admin/providers/lab');

    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'lab'));
    const form = el(fixture, '[data-testid="provider-edit-form"]') as HTMLElement;
    await click(fixture, '[data-testid="remove-mapping-rule"]', form);
    expect(ruleRows(fixture, 'provider-edit-form')).toBe(1);
    // The row left moved up.
    expect(inputValue(fixture, '#edit-provider-rule-value-0')).toBe('acme/dev');
    await click(fixture, '[data-testid="remove-mapping-rule"]', form);
    expect(ruleRows(fixture, 'provider-edit-form')).toBe(0);
    expect(document.activeElement?.id).toBe('edit-provider-add-rule');
    submit(fixture, 'provider-edit-form');
    const patch = http.expectOne('/api/admin/providers/lab');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ roleMapping: null });
    patch.flush({ ...LAB, roleMapping: null });
    await settle(fixture);
    expect(row(fixture, 'lab').querySelector('[data-testid="provider-mapping"]')).toBeNull();
    expect(said('providers-notice')).toBe('Provider GitLab (lab) saved.');
  });

  it('an Edit sends the whole mapping when a rule changed or was added, and shows the server refusing it', async () => {
    const fixture = await render([ACME, LAB]);
    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'lab'));
    await type(fixture, '#edit-provider-rule-roles-1', 'editor');
    await addRule(fixture, 'edit-provider', 2, { value: 'acme/admins', roles: 'admin, nobody' });
    submit(fixture, 'provider-edit-form');
    const patch = http.expectOne('/api/admin/providers/lab');
    expect(patch.request.body).toEqual({
      roleMapping: {
        claim: 'groups',
        rules: [
          { value: 'acme/ops', roles: ['moderator'], groups: ['ops'] },
          { value: 'acme/dev', roles: ['editor'], groups: ['dev', 'ops'] },
          { value: 'acme/admins', roles: ['admin', 'nobody'], groups: [] },
        ],
      },
    });
    patch.flush({ message: 'roleMapping names the role nobody, which does not exist.', code: 'invalid_request' }, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'provider-edit-error')).toBe('roleMapping names the role nobody, which does not exist.');
    expect(el(fixture, '[data-testid="provider-edit-form"]')).not.toBeNull();
    expect(cell(fixture, 'lab', 'provider-mapping')).toBe('Roles from groups: 2 rules (Moderator, group ops, group dev)');
  });

  it('a provider without a mapping gets one from its Edit', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="edit-provider"]', row(fixture, 'hub'));
    // GitHub's claim, fixed.
    expect(inputValue(fixture, '#edit-provider-mapping-claim')).toBe('orgs');
    expect((el(fixture, '#edit-provider-mapping-claim') as HTMLInputElement).readOnly).toBe(true);
    expect(ruleRows(fixture, 'provider-edit-form')).toBe(0);
    await addRule(fixture, 'edit-provider', 0, { value: 'acme', roles: 'moderator' });
    expect(document.activeElement?.id).toBe('edit-provider-rule-value-0');
    submit(fixture, 'provider-edit-form');
    const patch = http.expectOne('/api/admin/providers/hub');
    expect(patch.request.body).toEqual({ roleMapping: { claim: 'orgs', rules: [{ value: 'acme', roles: ['moderator'], groups: [] }] } });
    patch.flush({ ...HUB, roleMapping: { claim: 'orgs', rules: [{ value: 'acme', roles: ['moderator'], groups: [] }] } });
    await settle(fixture);
    expect(cell(fixture, 'hub', 'provider-mapping')).toBe('Roles from orgs: 1 rule (Moderator)');
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
    expect(said('providers-notice')).toBe('Provider Acme SSO (acme) deleted.');
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
      roleMapping: { claim: '', rules: [] },
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
        roleMapping: { claim: 'orgs', rules: [] },
      }),
    ).toEqual({});
    const mapped = { ...HUB, roleMapping: { claim: 'orgs', rules: [{ value: 'acme', roles: ['moderator'], groups: [] }] } };
    expect(
      providerChange(mapped as never, {
        displayName: 'GitHub',
        signup: 'domains',
        allowedDomains: 'example.com, example.org',
        trustedForMfa: true,
        clientSecret: '',
        roleMapping: { claim: 'orgs', rules: [{ value: ' acme ', roles: 'moderator,', groups: ' ' }] },
      }),
    ).toEqual({});
  });

  it("a mapping's body: the filled rows, names once each; GitHub's claim is orgs whatever was typed", () => {
    expect(
      mappingBody(
        {
          claim: ' groups ',
          rules: [
            { value: '', roles: '', groups: '' },
            { value: 'a', roles: 'x y,x', groups: 'g' },
          ],
        },
        'oidc',
      ),
    ).toEqual({ claim: 'groups', rules: [{ value: 'a', roles: ['x', 'y'], groups: ['g'] }] });
    expect(mappingBody({ claim: 'groups', rules: [{ value: 'a', roles: '', groups: 'g' }] }, 'github')?.claim).toBe('orgs');
    expect(mappingBody({ claim: 'groups', rules: [{ value: ' ', roles: '', groups: '' }] }, 'oidc')).toBeNull();
  });

  it('a rule takes a value of 1 to 255 characters and 1 to 20 roles and 20 groups (at least one)', () => {
    const errors = (value: string, roles = 'moderator', groups = '') => ruleForm({ value, roles, groups }).errors;
    const many = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`).join(', ');
    expect(errors('', '', '')).toBeNull();
    expect(errors('acme/ops')).toBeNull();
    expect(errors('a'.repeat(255))).toBeNull();
    expect(errors('a'.repeat(256))).toEqual({ value: true });
    // The server counts bytes: 128 two-byte letters are 256.
    expect(errors('é'.repeat(128))).toEqual({ value: true });
    expect(errors('ab')).toEqual({ value: true });
    expect(errors('acme', '', '')).toEqual({ namesRequired: true });
    expect(errors('', 'moderator')).toEqual({ value: true });
    expect(errors('acme', many(20), many(20))).toBeNull();
    expect(errors('acme', many(21))).toEqual({ names: true });
    expect(errors('acme', '', many(21))).toEqual({ names: true });
    expect(errors('acme', 'x'.repeat(65))).toEqual({ names: true });
  });

  it('a datalist offers whole values: each name not yet typed, after what is typed', () => {
    const known = ['user', 'moderator', 'editor'];
    expect(suggestions('', known)).toEqual(['user', 'moderator', 'editor']);
    expect(suggestions('mod', known)).toEqual(['user', 'moderator', 'editor']);
    expect(suggestions('moderator,', known)).toEqual(['moderator,user', 'moderator,editor']);
    expect(suggestions('moderator, ed', known)).toEqual(['moderator, user', 'moderator, editor']);
    expect(suggestions('user moderator ', known)).toEqual(['user moderator editor']);
  });
});
