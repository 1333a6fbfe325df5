import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { describeLifetime } from './client-form';
import { OidcClients, lines } from './oidc-clients';
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
const texts = (fixture: ComponentFixture<unknown>, testId: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(`[data-testid="${testId}"]`) as NodeListOf<HTMLElement>).map((e) =>
    e.textContent?.trim(),
  );
const row = (fixture: ComponentFixture<unknown>, clientId: string) =>
  el(fixture, `tr[data-client-id="${clientId}"]`) as HTMLElement;

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement | HTMLTextAreaElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

async function choose(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const select = el(fixture, selector) as HTMLSelectElement;
  expect(select).not.toBeNull();
  select.value = value;
  select.dispatchEvent(new Event('change'));
  await fixture.whenStable();
}

async function toggle(fixture: ComponentFixture<unknown>, selector: string) {
  const box = el(fixture, selector) as HTMLInputElement;
  expect(box).not.toBeNull();
  box.click();
  await fixture.whenStable();
}

function submit(fixture: ComponentFixture<unknown>) {
  (el(fixture, '[data-testid="client-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const ALL_SCOPES = ['openid', 'profile', 'email', 'roles', 'groups', 'offline_access'];
const NOTES = {
  clientId: 'c_notes',
  name: 'Acme Notes',
  redirectUris: ['https://notes.example/cb'],
  postLogoutRedirectUris: [],
  public: false,
  scopes: ALL_SCOPES,
  createdAt: '2026-02-03T04:05:06Z',
  idTokenSignedResponseAlg: 'RS256',
  grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
  accessTokenLifetime: null,
  backchannelLogoutUri: null,
  requirePushedAuthorizationRequests: false,
  dpopBoundAccessTokens: false,
  firstParty: false,
};
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const SECRET = 's3cr3t-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789';

describe('OidcClients', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => {
    http.verify();
    Reflect.deleteProperty(navigator, 'clipboard');
  });

  async function render(items: object[] = [NOTES]) {
    const fixture = TestBed.createComponent(OidcClients);
    const get = http.expectOne('/api/admin/clients');
    expect(get.request.method).toBe('GET');
    get.flush(items);
    await settle(fixture);
    return fixture;
  }

  it('lines(): one a line, trimmed, no empty ones', () => {
    expect(lines(' https://a.example/cb \r\n\n  \nhttp://127.0.0.1:8080/cb\n')).toEqual([
      'https://a.example/cb',
      'http://127.0.0.1:8080/cb',
    ]);
    expect(lines('   \n')).toEqual([]);
  });

  it('lists the clients', async () => {
    const fixture = await render([
      NOTES,
      { ...NOTES, clientId: 'c_spa', name: 'Acme SPA', public: true, scopes: ['openid'], idTokenSignedResponseAlg: 'ES256' },
    ]);
    expect(texts(fixture, 'client-name')).toEqual(['Acme Notes', 'Acme SPA']);
    expect(texts(fixture, 'client-id-token-alg')).toEqual(['RS256', 'ES256']);
    expect(row(fixture, 'c_spa').querySelector('[data-testid="client-id-token-alg"]')?.textContent?.trim()).toBe('ES256');
    expect(row(fixture, 'c_notes').querySelector('[data-testid="client-type"]')?.textContent?.trim()).toBe('Confidential');
    expect(row(fixture, 'c_spa').querySelector('[data-testid="client-type"]')?.textContent?.trim()).toBe('Public');
    expect(row(fixture, 'c_notes').textContent).toContain('https://notes.example/cb');
  });

  it('says when there are no clients', async () => {
    const fixture = await render([]);
    expect(text(fixture, 'clients-empty')).toBe('No clients yet.');
  });

  it('the form: every scope checked, a confidential client and RS256 ID tokens by default', async () => {
    const fixture = await render();
    for (const scope of ALL_SCOPES) {
      expect((el(fixture, `#client-scope-${scope}`) as HTMLInputElement).checked, scope).toBe(true);
    }
    expect((el(fixture, '#client-public') as HTMLInputElement).checked).toBe(false);
    expect(el(fixture, 'label[for="client-public"]')?.textContent?.trim()).toBe(
      'Public client (a browser or mobile app, no secret; PKCE required)',
    );
    const alg = el(fixture, '#client-id-token-alg') as HTMLSelectElement;
    expect(alg.value).toBe('RS256');
    expect(Array.from(alg.options).map((o) => [o.value, o.textContent?.trim()])).toEqual([
      ['RS256', 'RS256 (default)'],
      ['ES256', 'ES256'],
      ['EdDSA', 'EdDSA'],
    ]);
    expect(el(fixture, '#client-id-token-alg-help')?.textContent).toContain('RS256, the default, can be checked by every relying party');
  });

  it('sends nothing without a name or a redirect URI', async () => {
    const fixture = await render();
    await type(fixture, '#client-redirect-uris', '  \n ');
    submit(fixture);
    await settle(fixture);
    http.expectNone((r) => r.method === 'POST');
    expect(el(fixture, '#client-name')?.classList).toContain('is-invalid');
    expect(el(fixture, '#client-redirect-uris')?.classList).toContain('is-invalid');
  });

  it('creates a confidential client and shows its secret once, with a copy button', async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const fixture = await render([]);
    await type(fixture, '#client-name', '  Team Wiki ');
    await type(fixture, '#client-redirect-uris', 'https://wiki.example/cb\n\n  http://127.0.0.1:8080/cb  \n');
    await type(fixture, '#client-logout-uris', 'https://wiki.example/\n');
    submit(fixture);
    const post = http.expectOne('/api/admin/clients');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({
      name: 'Team Wiki',
      redirectUris: ['https://wiki.example/cb', 'http://127.0.0.1:8080/cb'],
      postLogoutRedirectUris: ['https://wiki.example/'],
      public: false,
      scopes: ALL_SCOPES,
      idTokenSignedResponseAlg: 'RS256',
    });
    post.flush(
      {
        clientId: 'c_wiki',
        name: 'Team Wiki',
        redirectUris: ['https://wiki.example/cb', 'http://127.0.0.1:8080/cb'],
        postLogoutRedirectUris: ['https://wiki.example/'],
        public: false,
        scopes: ALL_SCOPES,
        createdAt: '2026-02-05T00:00:00Z',
        idTokenSignedResponseAlg: 'RS256',
        clientSecret: SECRET,
      },
      { status: 201, statusText: 'Created' },
    );
    await settle(fixture);
    expect(text(fixture, 'client-created')).toContain('It will not be shown again');
    expect(text(fixture, 'client-secret')).toBe(SECRET);
    expect(text(fixture, 'created-client-id')).toBe('c_wiki');
    expect(texts(fixture, 'client-name')).toEqual(['Team Wiki']);
    // The list row never holds the secret.
    expect(row(fixture, 'c_wiki').textContent).not.toContain(SECRET);
    // The form is back to its defaults.
    expect((el(fixture, '#client-name') as HTMLInputElement).value).toBe('');
    expect((el(fixture, '#client-scope-offline_access') as HTMLInputElement).checked).toBe(true);
    expect((el(fixture, '#client-scope-groups') as HTMLInputElement).checked).toBe(true);
    expect((el(fixture, '#client-id-token-alg') as HTMLSelectElement).value).toBe('RS256');

    (el(fixture, '[data-testid="copy-secret"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(writeText).toHaveBeenCalledExactlyOnceWith(SECRET);
    expect(text(fixture, 'secret-copied')).toBe('Copied.');

    (el(fixture, '[data-testid="dismiss-secret"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(el(fixture, '[data-testid="client-created"]')).toBeNull();
    expect(fixture.nativeElement.textContent).not.toContain(SECRET);
  });

  it('a refused copy says so', async () => {
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: vi.fn(async () => Promise.reject(new Error('denied'))) }, configurable: true });
    const fixture = await render([]);
    await type(fixture, '#client-name', 'Team Wiki');
    await type(fixture, '#client-redirect-uris', 'https://wiki.example/cb');
    submit(fixture);
    http.expectOne('/api/admin/clients').flush({ ...NOTES, clientId: 'c_wiki', clientSecret: SECRET }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    (el(fixture, '[data-testid="copy-secret"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(text(fixture, 'secret-copied')).toBe('The browser refused to copy: select the secret and copy it.');
  });

  it('creates a public client with the scopes left checked: no secret to show', async () => {
    const fixture = await render();
    await type(fixture, '#client-name', 'Acme SPA');
    await type(fixture, '#client-redirect-uris', 'https://spa.example/cb');
    await toggle(fixture, '#client-public');
    await toggle(fixture, '#client-scope-offline_access');
    await toggle(fixture, '#client-scope-roles');
    await choose(fixture, '#client-id-token-alg', 'EdDSA');
    submit(fixture);
    const post = http.expectOne('/api/admin/clients');
    expect(post.request.body).toEqual({
      name: 'Acme SPA',
      redirectUris: ['https://spa.example/cb'],
      postLogoutRedirectUris: [],
      public: true,
      scopes: ['openid', 'profile', 'email', 'groups'],
      idTokenSignedResponseAlg: 'EdDSA',
    });
    post.flush(
      {
        clientId: 'c_spa',
        name: 'Acme SPA',
        redirectUris: ['https://spa.example/cb'],
        postLogoutRedirectUris: [],
        public: true,
        scopes: ['openid', 'profile', 'email', 'groups'],
        createdAt: '2026-02-05T00:00:00Z',
        idTokenSignedResponseAlg: 'EdDSA',
      },
      { status: 201, statusText: 'Created' },
    );
    await settle(fixture);
    expect(el(fixture, '[data-testid="client-secret"]')).toBeNull();
    expect(el(fixture, '[data-testid="copy-secret"]')).toBeNull();
    expect(text(fixture, 'client-created')).toContain('Public client “Acme SPA” created');
    expect(text(fixture, 'created-client-id')).toBe('c_spa');
    expect(texts(fixture, 'client-name')).toEqual(['Acme Notes', 'Acme SPA']);
    expect(row(fixture, 'c_spa').querySelector('[data-testid="client-type"]')?.textContent?.trim()).toBe('Public');
    expect(row(fixture, 'c_spa').querySelector('[data-testid="client-id-token-alg"]')?.textContent?.trim()).toBe('EdDSA');
    // The form is back to RS256.
    expect((el(fixture, '#client-id-token-alg') as HTMLSelectElement).value).toBe('RS256');
  });

  it('sends ES256 when chosen, and shows the server\'s 400 about the algorithm with the choice kept', async () => {
    const fixture = await render();
    await type(fixture, '#client-name', 'Legacy');
    await type(fixture, '#client-redirect-uris', 'https://legacy.example/cb');
    await choose(fixture, '#client-id-token-alg', 'ES256');
    submit(fixture);
    const post = http.expectOne('/api/admin/clients');
    expect(post.request.body).toEqual(expect.objectContaining({ name: 'Legacy', idTokenSignedResponseAlg: 'ES256' }));
    post.flush(
      { message: 'id_token_signed_response_alg must be RS256, ES256 or EdDSA.', code: 'invalid_request' },
      { status: 400, statusText: 'Bad Request' },
    );
    await settle(fixture);
    expect(text(fixture, 'client-create-error')).toBe('id_token_signed_response_alg must be RS256, ES256 or EdDSA.');
    expect((el(fixture, '#client-id-token-alg') as HTMLSelectElement).value).toBe('ES256');
    expect(texts(fixture, 'client-name')).toEqual(['Acme Notes']);
  });

  it("a 400 shows the server's message and keeps the form as typed", async () => {
    const fixture = await render();
    await type(fixture, '#client-name', 'Bad');
    await type(fixture, '#client-redirect-uris', 'http://app.example/cb');
    submit(fixture);
    http.expectOne('/api/admin/clients').flush(
      {
        message: '"http://app.example/cb" is http: only https, or http on localhost/127.0.0.1/[::1], is allowed',
        code: 'invalid_request',
      },
      { status: 400, statusText: 'Bad Request' },
    );
    await settle(fixture);
    expect(text(fixture, 'client-create-error')).toBe(
      '"http://app.example/cb" is http: only https, or http on localhost/127.0.0.1/[::1], is allowed',
    );
    expect((el(fixture, '#client-redirect-uris') as HTMLTextAreaElement).value).toBe('http://app.example/cb');
    expect(el(fixture, '[data-testid="client-created"]')).toBeNull();
    expect(texts(fixture, 'client-name')).toEqual(['Acme Notes']);
  });

  it('deletes after a confirmation, with DELETE', async () => {
    const fixture = await render([NOTES, { ...NOTES, clientId: 'c_other', name: 'Other' }]);
    (row(fixture, 'c_notes').querySelector('[data-testid="delete-client"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectNone((r) => r.method === 'DELETE');
    expect(row(fixture, 'c_notes').textContent).toContain('Delete Acme Notes?');
    (row(fixture, 'c_notes').querySelector('[data-testid="confirm-delete-client"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/admin/clients/c_notes');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, { status: 204, statusText: 'No Content' });
    await settle(fixture);
    expect(texts(fixture, 'client-name')).toEqual(['Other']);
    expect(said('clients-notice')).toBe('Acme Notes deleted.');
  });
  it('describeLifetime(): seconds in words', () => {
    expect(describeLifetime(30)).toBe('30 seconds');
    expect(describeLifetime(90)).toBe('90 seconds');
    expect(describeLifetime(60)).toBe('1 minute');
    expect(describeLifetime(900)).toBe('15 minutes');
    expect(describeLifetime(3600)).toBe('1 hour');
    expect(describeLifetime(5400)).toBe('1 hour 30 minutes');
    expect(describeLifetime(86400)).toBe('24 hours');
  });

  it("shows each client's grants (the device code by name), token lifetime, back-channel URI and badges", async () => {
    const fixture = await render([
      NOTES,
      {
        ...NOTES,
        clientId: 'c_tv',
        name: 'Acme TV',
        public: true,
        redirectUris: [],
        grantTypes: ['refresh_token', DEVICE_CODE],
        accessTokenLifetime: 900,
        backchannelLogoutUri: 'https://tv.example/bc-logout',
        requirePushedAuthorizationRequests: true,
        dpopBoundAccessTokens: true,
        firstParty: true,
      },
    ]);
    const notes = row(fixture, 'c_notes');
    const tv = row(fixture, 'c_tv');
    const grants = (r: HTMLElement) =>
      Array.from(r.querySelectorAll('[data-testid="client-grant-type"]')).map((e) => e.textContent?.trim());
    expect(grants(notes)).toEqual(['Authorization code', 'Refresh token', 'Client credentials']);
    expect(grants(tv)).toEqual(['Refresh token', 'Device code']);
    expect(tv.querySelector(`[data-grant="${DEVICE_CODE}"]`)?.textContent?.trim()).toBe('Device code');

    const inRow = (r: HTMLElement, testId: string) =>
      r.querySelector(`[data-testid="${testId}"]`)?.textContent?.trim().replace(/\s+/g, ' ');
    expect(inRow(notes, 'client-access-token-lifetime')).toBe("Access tokens: the server's lifetime");
    expect(inRow(tv, 'client-access-token-lifetime')).toBe('Access tokens: 15 minutes');
    expect(notes.querySelector('[data-testid="client-backchannel-logout-uri"]')).toBeNull();
    expect(inRow(tv, 'client-backchannel-logout-uri')).toBe('https://tv.example/bc-logout');
    const badges = (r: HTMLElement) =>
      Array.from(r.querySelectorAll('[data-testid="client-badge"]')).map((e) => e.textContent?.trim());
    expect(badges(notes)).toEqual([]);
    expect(badges(tv)).toEqual(['PAR required', 'DPoP required', 'First-party']);
    // The type column says only the kind.
    expect(inRow(tv, 'client-type')).toBe('Public');
  });

  it('the form: the default grants of a confidential client, the server lifetime, the switches off, first-party explained', async () => {
    const fixture = await render();
    const checked = (selector: string) => (el(fixture, selector) as HTMLInputElement).checked;
    expect(checked('#client-grant-authorization_code')).toBe(true);
    expect(checked('#client-grant-refresh_token')).toBe(true);
    expect(checked('#client-grant-client_credentials')).toBe(true);
    expect(checked('#client-grant-device_code')).toBe(false);
    expect(el(fixture, 'label[for="client-grant-device_code"]')?.textContent?.trim()).toBe('Device code');
    expect((el(fixture, '#client-access-token-lifetime') as HTMLInputElement).value).toBe('');
    expect((el(fixture, '#client-backchannel-logout-uri') as HTMLInputElement).value).toBe('');
    expect(checked('#client-par')).toBe(false);
    expect(checked('#client-dpop')).toBe(false);
    expect(checked('#client-first-party')).toBe(false);
    expect(el(fixture, 'label[for="client-first-party"]')?.textContent?.trim()).toBe('First-party application');
    expect(el(fixture, '#client-first-party-help')?.textContent?.trim()).toBe(
      'Users are not asked for consent; only for your own applications.',
    );
    expect(el(fixture, '#client-first-party')?.getAttribute('aria-describedby')).toBe('client-first-party-help');
  });

  it('a public client cannot have client credentials: the box follows the Public box', async () => {
    const fixture = await render();
    const credentials = () => el(fixture, '#client-grant-client_credentials') as HTMLInputElement;
    await toggle(fixture, '#client-public');
    expect(credentials().checked).toBe(false);
    expect(credentials().disabled).toBe(true);
    await toggle(fixture, '#client-public');
    expect(credentials().checked).toBe(true);
    expect(credentials().disabled).toBe(false);
    // Unticked by hand, it stays unticked through Public and back.
    await toggle(fixture, '#client-grant-client_credentials');
    await toggle(fixture, '#client-public');
    await toggle(fixture, '#client-public');
    expect(credentials().checked).toBe(false);
  });

  it('registers with the settings chosen: grants, lifetime, back-channel URI, PAR, DPoP and first-party', async () => {
    const fixture = await render([]);
    await type(fixture, '#client-name', 'Acme TV');
    await type(fixture, '#client-redirect-uris', 'https://tv.example/cb');
    await toggle(fixture, '#client-grant-client_credentials');
    await toggle(fixture, '#client-grant-device_code');
    await type(fixture, '#client-access-token-lifetime', '600');
    expect(el(fixture, '#client-access-token-lifetime-help')?.textContent).toContain('10 minutes.');
    await type(fixture, '#client-backchannel-logout-uri', ' https://tv.example/bc ');
    await toggle(fixture, '#client-par');
    await toggle(fixture, '#client-dpop');
    await toggle(fixture, '#client-first-party');
    submit(fixture);
    const post = http.expectOne('/api/admin/clients');
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({
      name: 'Acme TV',
      redirectUris: ['https://tv.example/cb'],
      postLogoutRedirectUris: [],
      public: false,
      scopes: ALL_SCOPES,
      idTokenSignedResponseAlg: 'RS256',
      grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE],
      accessTokenLifetime: 600,
      backchannelLogoutUri: 'https://tv.example/bc',
      requirePushedAuthorizationRequests: true,
      dpopBoundAccessTokens: true,
      firstParty: true,
    });
    post.flush(
      {
        ...NOTES,
        clientId: 'c_tv',
        name: 'Acme TV',
        redirectUris: ['https://tv.example/cb'],
        grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE],
        accessTokenLifetime: 600,
        backchannelLogoutUri: 'https://tv.example/bc',
        requirePushedAuthorizationRequests: true,
        dpopBoundAccessTokens: true,
        firstParty: true,
        clientSecret: SECRET,
      },
      { status: 201, statusText: 'Created' },
    );
    await settle(fixture);
    const badges = Array.from(row(fixture, 'c_tv').querySelectorAll('[data-testid="client-badge"]')).map((e) => e.textContent?.trim());
    expect(badges).toEqual(['PAR required', 'DPoP required', 'First-party']);
    // The form is back to its defaults.
    expect((el(fixture, '#client-grant-client_credentials') as HTMLInputElement).checked).toBe(true);
    expect((el(fixture, '#client-grant-device_code') as HTMLInputElement).checked).toBe(false);
    expect((el(fixture, '#client-access-token-lifetime') as HTMLInputElement).value).toBe('');
    expect((el(fixture, '#client-first-party') as HTMLInputElement).checked).toBe(false);
  });

  it('a device-only client needs no redirect URI; a public one sends its grants when they are not the defaults', async () => {
    const fixture = await render([]);
    await type(fixture, '#client-name', 'CLI');
    await toggle(fixture, '#client-public');
    await toggle(fixture, '#client-grant-authorization_code');
    await toggle(fixture, '#client-grant-device_code');
    expect(el(fixture, '#client-redirect-uris')?.classList).not.toContain('is-invalid');
    submit(fixture);
    const post = http.expectOne('/api/admin/clients');
    expect(post.request.body).toEqual({
      name: 'CLI',
      redirectUris: [],
      postLogoutRedirectUris: [],
      public: true,
      scopes: ALL_SCOPES,
      idTokenSignedResponseAlg: 'RS256',
      grantTypes: ['refresh_token', DEVICE_CODE],
    });
    post.flush({ message: 'x', code: 'internal' }, { status: 500, statusText: 'Internal Server Error' });
    await settle(fixture);
  });

  it('sends nothing with only a refresh token, or a lifetime out of range, and says why', async () => {
    const fixture = await render();
    await type(fixture, '#client-name', 'Odd');
    await type(fixture, '#client-redirect-uris', 'https://odd.example/cb');
    await toggle(fixture, '#client-grant-authorization_code');
    await toggle(fixture, '#client-grant-client_credentials');
    await type(fixture, '#client-access-token-lifetime', '10');
    submit(fixture);
    await settle(fixture);
    http.expectNone((r) => r.method === 'POST');
    expect(text(fixture, 'client-grants-error')).toBe(
      'Choose authorization code, client credentials or device code: a refresh token alone gets no token.',
    );
    expect(el(fixture, '#client-access-token-lifetime')?.classList).toContain('is-invalid');
    expect(el(fixture, '#client-access-token-lifetime')?.getAttribute('aria-invalid')).toBe('true');
  });

  describe('Edit', () => {
    const TV = {
      ...NOTES,
      clientId: 'c_tv',
      name: 'Acme TV',
      redirectUris: ['https://tv.example/cb'],
      postLogoutRedirectUris: ['https://tv.example/'],
      scopes: ['openid', 'profile'],
      idTokenSignedResponseAlg: 'ES256',
      grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE],
      accessTokenLifetime: 600,
      backchannelLogoutUri: 'https://tv.example/bc',
      requirePushedAuthorizationRequests: true,
      dpopBoundAccessTokens: false,
      firstParty: false,
    };

    async function openEdit(fixture: ComponentFixture<unknown>, clientId: string) {
      (row(fixture, clientId).querySelector('[data-testid="edit-client"]') as HTMLButtonElement).click();
      await settle(fixture);
      expect(el(fixture, '[data-testid="client-edit-form"]')).not.toBeNull();
    }

    function save(fixture: ComponentFixture<unknown>) {
      (el(fixture, '[data-testid="client-edit-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
    }

    it("opens under the client's row, filled with its registration", async () => {
      const fixture = await render([NOTES, TV]);
      await openEdit(fixture, 'c_tv');
      const value = (selector: string) => (el(fixture, selector) as HTMLInputElement).value;
      const checked = (selector: string) => (el(fixture, selector) as HTMLInputElement).checked;
      expect(el(fixture, 'tr[data-edit-client-id="c_tv"]')).not.toBeNull();
      expect(el(fixture, '#edit-client-heading')?.textContent?.trim()).toBe('Edit Acme TV');
      expect(value('#edit-client-name')).toBe('Acme TV');
      expect(value('#edit-client-redirect-uris')).toBe('https://tv.example/cb');
      expect(value('#edit-client-logout-uris')).toBe('https://tv.example/');
      expect(checked('#edit-client-scope-profile')).toBe(true);
      expect(checked('#edit-client-scope-email')).toBe(false);
      expect(value('#edit-client-id-token-alg')).toBe('ES256');
      expect(checked('#edit-client-grant-authorization_code')).toBe(true);
      expect(checked('#edit-client-grant-client_credentials')).toBe(false);
      expect(checked('#edit-client-grant-device_code')).toBe(true);
      expect(value('#edit-client-access-token-lifetime')).toBe('600');
      expect(value('#edit-client-backchannel-logout-uri')).toBe('https://tv.example/bc');
      expect(checked('#edit-client-par')).toBe(true);
      expect(checked('#edit-client-dpop')).toBe(false);
      expect(checked('#edit-client-first-party')).toBe(false);
      expect(el(fixture, '#edit-client-first-party-help')?.textContent?.trim()).toBe(
        'Users are not asked for consent; only for your own applications.',
      );
      // The kind is said, not changed.
      expect(el(fixture, '#edit-client-public')).toBeNull();
      expect(text(fixture, 'client-kind')).toBe('A confidential client: it authenticates with its secret.');
      const button = row(fixture, 'c_tv').querySelector('[data-testid="edit-client"]') as HTMLButtonElement;
      expect(button.getAttribute('aria-expanded')).toBe('true');
      expect(document.activeElement).toBe(el(fixture, '#edit-client-name'));
      // The list keeps one row a client (the edit row is not one).
      expect(fixture.nativeElement.querySelectorAll('tr[data-client-id]').length).toBe(2);
    });

    it('sends PATCH with only what changed, and shows the client as the server answers', async () => {
      const fixture = await render([NOTES, TV]);
      await openEdit(fixture, 'c_tv');
      await type(fixture, '#edit-client-name', 'Acme TV 2');
      await toggle(fixture, '#edit-client-first-party');
      await toggle(fixture, '#edit-client-dpop');
      await toggle(fixture, '#edit-client-grant-authorization_code');
      await type(fixture, '#edit-client-access-token-lifetime', '300');
      // Touched, but back as it was: not sent.
      await toggle(fixture, '#edit-client-scope-email');
      await toggle(fixture, '#edit-client-scope-email');
      await type(fixture, '#edit-client-redirect-uris', ' https://tv.example/cb \n');
      save(fixture);
      const patch = http.expectOne('/api/admin/clients/c_tv');
      expect(patch.request.method).toBe('PATCH');
      expect(patch.request.body).toEqual({
        name: 'Acme TV 2',
        grantTypes: ['refresh_token', DEVICE_CODE],
        accessTokenLifetime: 300,
        dpopBoundAccessTokens: true,
        firstParty: true,
      });
      patch.flush({
        ...TV,
        name: 'Acme TV 2',
        grantTypes: ['refresh_token', DEVICE_CODE],
        accessTokenLifetime: 300,
        dpopBoundAccessTokens: true,
        firstParty: true,
      });
      await settle(fixture);
      expect(el(fixture, '[data-testid="client-edit-form"]')).toBeNull();
      expect(said('clients-notice')).toBe('Acme TV 2 saved.');
      expect(texts(fixture, 'client-name')).toEqual(['Acme Notes', 'Acme TV 2']);
      const tv = row(fixture, 'c_tv');
      expect(Array.from(tv.querySelectorAll('[data-testid="client-badge"]')).map((e) => e.textContent?.trim())).toEqual([
        'PAR required',
        'DPoP required',
        'First-party',
      ]);
      expect(tv.querySelector('[data-testid="client-access-token-lifetime"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
        'Access tokens: 5 minutes',
      );
    });

    it('an emptied lifetime and back-channel URI are sent as null (the server\'s; none), scopes and URIs as lists', async () => {
      const fixture = await render([TV]);
      await openEdit(fixture, 'c_tv');
      await type(fixture, '#edit-client-access-token-lifetime', '');
      await type(fixture, '#edit-client-backchannel-logout-uri', '  ');
      await toggle(fixture, '#edit-client-scope-email');
      await type(fixture, '#edit-client-logout-uris', '');
      await choose(fixture, '#edit-client-id-token-alg', 'RS256');
      save(fixture);
      const patch = http.expectOne('/api/admin/clients/c_tv');
      expect(patch.request.body).toEqual({
        postLogoutRedirectUris: [],
        scopes: ['openid', 'profile', 'email'],
        idTokenSignedResponseAlg: 'RS256',
        accessTokenLifetime: null,
        backchannelLogoutUri: null,
      });
      patch.flush({ ...TV, accessTokenLifetime: null, backchannelLogoutUri: null });
      await settle(fixture);
    });

    it('nothing changed: no request, and the form says so', async () => {
      const fixture = await render([TV]);
      await openEdit(fixture, 'c_tv');
      await toggle(fixture, '#edit-client-par');
      await toggle(fixture, '#edit-client-par');
      save(fixture);
      await settle(fixture);
      http.expectNone((r) => r.method === 'PATCH');
      expect(text(fixture, 'client-edit-unchanged')).toBe('Nothing has changed.');
    });

    it("a 400 shows the server's message in the form, which keeps what was typed", async () => {
      const fixture = await render([TV]);
      await openEdit(fixture, 'c_tv');
      await type(fixture, '#edit-client-backchannel-logout-uri', 'http://tv.example/bc');
      save(fixture);
      const patch = http.expectOne('/api/admin/clients/c_tv');
      expect(patch.request.body).toEqual({ backchannelLogoutUri: 'http://tv.example/bc' });
      patch.flush(
        { message: '"http://tv.example/bc": a back-channel logout URI is https, or http on a loopback address', code: 'invalid_request' },
        { status: 400, statusText: 'Bad Request' },
      );
      await settle(fixture);
      expect(text(fixture, 'client-edit-error')).toBe(
        '"http://tv.example/bc": a back-channel logout URI is https, or http on a loopback address',
      );
      expect(el(fixture, '[data-testid="client-edit-error"]')?.getAttribute('role')).toBe('alert');
      expect((el(fixture, '#edit-client-backchannel-logout-uri') as HTMLInputElement).value).toBe('http://tv.example/bc');
      expect(row(fixture, 'c_tv').querySelector('[data-testid="client-backchannel-logout-uri"]')?.textContent?.trim()).toBe(
        'https://tv.example/bc',
      );
      expect((el(fixture, '[data-testid="save-client"]') as HTMLButtonElement).disabled).toBe(false);
    });

    it("a public client's Edit has no client credentials to tick", async () => {
      const fixture = await render([{ ...TV, public: true }]);
      await openEdit(fixture, 'c_tv');
      const credentials = el(fixture, '#edit-client-grant-client_credentials') as HTMLInputElement;
      expect(credentials.checked).toBe(false);
      expect(credentials.disabled).toBe(true);
      expect(text(fixture, 'client-kind')).toBe('A public client: no secret, PKCE required, and no client credentials grant.');
    });

    it('Cancel closes the form without a request; one form at a time', async () => {
      const fixture = await render([NOTES, TV]);
      await openEdit(fixture, 'c_tv');
      await type(fixture, '#edit-client-name', 'Changed');
      await openEdit(fixture, 'c_notes');
      expect(fixture.nativeElement.querySelectorAll('[data-testid="client-edit-form"]').length).toBe(1);
      expect((el(fixture, '#edit-client-name') as HTMLInputElement).value).toBe('Acme Notes');
      (el(fixture, '[data-testid="cancel-edit-client"]') as HTMLButtonElement).click();
      await settle(fixture);
      expect(el(fixture, '[data-testid="client-edit-form"]')).toBeNull();
      http.expectNone((r) => r.method === 'PATCH');
      expect(texts(fixture, 'client-name')).toEqual(['Acme Notes', 'Acme TV']);
      // The focus is back on the Edit button of the client.
      expect(document.activeElement).toBe(row(fixture, 'c_notes').querySelector('[data-testid="edit-client"]'));
    });
  });
});
