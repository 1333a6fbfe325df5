import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { routes } from '../app.routes';
import { MfaChallenge } from '../core/api.models';
import { ExternalNavigation } from '../core/external-navigation';
import { ALICE, policyWith, setUpHttp } from '../../testing/http-testing';
import { Login } from './login';

/** Lets the page's promise chains finish, then renders. */
async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

function submit(fixture: ComponentFixture<unknown>) {
  (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const CONSENT = '/oauth/consent?request=req_abc&fresh=1';
const CHALLENGE: MfaChallenge = {
  mfaRequired: true,
  mfaToken: 'm'.repeat(43),
  methods: ['totp', 'recovery'],
  expiresIn: 300,
};

describe('Login: the way back (returnUrl)', () => {
  let http: HttpTestingController;
  let router: Router;
  let assign: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    // The app's own routes: which paths are its pages decides how the page goes back.
    router.resetConfig(routes);
    vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
    assign = vi.spyOn(TestBed.inject(ExternalNavigation), 'assign').mockReturnValue(true);
  });

  afterEach(() => http.verify());

  async function render(inputs: Record<string, string>) {
    const fixture = TestBed.createComponent(Login);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    for (const [name, value] of Object.entries(inputs)) fixture.componentRef.setInput(name, value);
    http.expectOne('/api/auth/policy').flush(policyWith());
    await fixture.whenStable();
    for (const asked of http.match((r) => r.url.startsWith('/api/oauth/requests/'))) {
      asked.flush({ client: { clientId: 'c_notes', name: 'Acme Notes' }, scopes: ['openid'], signInRequired: false });
    }
    await fixture.whenStable();
    return fixture;
  }

  const heading = (fixture: ComponentFixture<unknown>) =>
    (fixture.nativeElement.querySelector('[data-testid="login-heading"]') as HTMLElement).textContent?.trim().replace(/\s+/g, ' ');

  it('names the product in its heading', async () => {
    const fixture = await render({});
    expect(heading(fixture)).toBe('Sign in to Portcullis');
  });

  it('names the application when the way back is its consent page (asked without a session)', async () => {
    const fixture = TestBed.createComponent(Login);
    fixture.componentRef.setInput('returnUrl', CONSENT);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    http.expectOne('/api/auth/policy').flush(policyWith());
    await fixture.whenStable();
    const asked = http.expectOne('/api/oauth/requests/req_abc');
    expect(asked.request.method).toBe('GET');
    asked.flush({ client: { clientId: 'c_notes', name: 'Acme Notes' }, scopes: ['openid'], signInRequired: false });
    await settle(fixture);
    expect(heading(fixture)).toBe('Sign in to Acme Notes with Portcullis');
    expect(fixture.nativeElement.querySelector('[data-testid="client-logo"]')).toBeNull();
  });

  it("shows the application's own logo beside the name, when it has one", async () => {
    const fixture = TestBed.createComponent(Login);
    fixture.componentRef.setInput('returnUrl', CONSENT);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    http.expectOne('/api/auth/policy').flush(policyWith());
    await fixture.whenStable();
    const logoUrl = '/api/branding/clients/c_notes/logo?v=1';
    http.expectOne('/api/oauth/requests/req_abc').flush({
      client: { clientId: 'c_notes', name: 'Acme Notes', logoUrl },
      scopes: ['openid'],
      signInRequired: false,
    });
    await settle(fixture);
    const logo = fixture.nativeElement.querySelector('[data-testid="client-logo"]') as HTMLImageElement;
    expect(logo.getAttribute('src')).toBe(logoUrl);
    // Decorative: the heading names the application.
    expect(logo.getAttribute('alt')).toBe('');
  });

  it('keeps the plain heading when the request cannot be had (expired, or a network error)', async () => {
    const fixture = TestBed.createComponent(Login);
    fixture.componentRef.setInput('returnUrl', CONSENT);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    http.expectOne('/api/auth/policy').flush(policyWith());
    await fixture.whenStable();
    http
      .expectOne('/api/oauth/requests/req_abc')
      .flush({ message: 'gone', code: 'oauth_request_unknown' }, { status: 404, statusText: 'Not Found' });
    await settle(fixture);
    expect(heading(fixture)).toBe('Sign in to Portcullis');
    expect(fixture.nativeElement.querySelector('[data-testid="error"]')).toBeNull();
  });

  it('after a sign-up (?reason=registered) says the account is ready', async () => {
    const fixture = await render({ reason: 'registered' });
    expect((fixture.nativeElement.querySelector('[data-testid="notice"]') as HTMLElement).textContent?.trim()).toBe(
      'Account created. Sign in to continue.',
    );
  });

  async function signIn(fixture: ComponentFixture<unknown>, answer: object) {
    await type(fixture, '#login-username', 'alice');
    await type(fixture, '#login-password', 'secret-password');
    submit(fixture);
    http.expectOne('/api/auth/signin').flush(answer);
    await settle(fixture);
  }

  it('after a password, goes back to the consent page it came from', async () => {
    const fixture = await render({ returnUrl: CONSENT });
    await signIn(fixture, { id: ALICE.id });
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledExactlyOnceWith(CONSENT);
    expect(assign).not.toHaveBeenCalled();
  });

  it('after the second step too', async () => {
    const fixture = await render({ returnUrl: CONSENT });
    await signIn(fixture, CHALLENGE);
    expect(router.navigateByUrl).not.toHaveBeenCalled();
    await type(fixture, '#mfa-code', '123456');
    submit(fixture);
    http.expectOne('/api/auth/mfa/verify').flush({ id: ALICE.id });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledExactlyOnceWith(CONSENT);
  });

  // deploy/nginx/forward-auth.conf: a proxy sent the browser here from an app on this host.
  for (const app of ['/app/', '/backend/page?x=1#top']) {
    it(`a path of this host the web app has no page for (${app}) is a full page load`, async () => {
      const fixture = await render({ returnUrl: app });
      await signIn(fixture, { id: ALICE.id });
      http.expectOne('/api/auth/me').flush(ALICE);
      await settle(fixture);
      expect(assign).toHaveBeenCalledExactlyOnceWith(app);
      expect(router.navigateByUrl).not.toHaveBeenCalled();
    });
  }

  it('after the second step too, to an app on this host', async () => {
    const fixture = await render({ returnUrl: '/app/' });
    await signIn(fixture, CHALLENGE);
    await type(fixture, '#mfa-code', '123456');
    submit(fixture);
    http.expectOne('/api/auth/mfa/verify').flush({ id: ALICE.id });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(assign).toHaveBeenCalledExactlyOnceWith('/app/');
    expect(router.navigateByUrl).not.toHaveBeenCalled();
  });

  for (const bad of ['//evil.example/cb', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
    it(`a returnUrl of another site (${bad}) is ignored: the account console`, async () => {
      const fixture = await render({ returnUrl: bad });
      await signIn(fixture, { id: ALICE.id });
      http.expectOne('/api/auth/me').flush(ALICE);
      await settle(fixture);
      expect(router.navigateByUrl).toHaveBeenCalledExactlyOnceWith('/account');
      expect(assign).not.toHaveBeenCalled();
    });
  }

  it('says why when an application asked for a fresh sign-in (?reason=reauth)', async () => {
    const fixture = await render({ reason: 'reauth', returnUrl: CONSENT });
    expect(el(fixture, '[data-testid="notice"]')?.textContent?.trim()).toBe(
      'Please sign in again to continue to the application.',
    );
  });
});
