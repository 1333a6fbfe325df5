import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { OidcClients, lines } from './oidc-clients';

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

const ALL_SCOPES = ['openid', 'profile', 'email', 'roles', 'offline_access'];
const NOTES = {
  clientId: 'c_notes',
  name: 'Acme Notes',
  redirectUris: ['https://notes.example/cb'],
  postLogoutRedirectUris: [],
  public: false,
  scopes: ALL_SCOPES,
  createdAt: '2026-02-03T04:05:06Z',
  idTokenSignedResponseAlg: 'RS256',
};
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
      scopes: ['openid', 'profile', 'email'],
      idTokenSignedResponseAlg: 'EdDSA',
    });
    post.flush(
      {
        clientId: 'c_spa',
        name: 'Acme SPA',
        redirectUris: ['https://spa.example/cb'],
        postLogoutRedirectUris: [],
        public: true,
        scopes: ['openid', 'profile', 'email'],
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
    expect(text(fixture, 'clients-notice')).toBe('Acme Notes deleted.');
  });
});
