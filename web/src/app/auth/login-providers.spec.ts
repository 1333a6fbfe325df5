import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { routes } from '../app.routes';
import { AuthService } from '../core/auth.service';
import { ExternalNavigation } from '../core/external-navigation';
import { providerErrorMessage, rememberProvider } from '../core/provider-errors';
import { ALICE, policyWith, setUpHttp } from '../../testing/http-testing';
import { Login, challengeFromFragment } from './login';

/** Lets the page's promise chains finish, then renders. */
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
const all = (fixture: ComponentFixture<unknown>, selector: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(selector) as NodeListOf<HTMLElement>);

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

const ICON = 'data:image/svg+xml;base64,PHN2Zy8+';
const ACME = { id: 'acme', kind: 'oidc', displayName: 'Acme SSO', icon: ICON };
const HUB = { id: 'hub', kind: 'github', displayName: 'GitHub', icon: null };
const CONSENT = '/oauth/consent?request=req_abc';
const TOKEN = 't'.repeat(43);

describe('Login: other identity providers', () => {
  let http: HttpTestingController;
  let router: Router;
  let assign: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    router.resetConfig(routes);
    vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
    assign = vi.spyOn(TestBed.inject(ExternalNavigation), 'assign').mockReturnValue(true);
    sessionStorage.clear();
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
    history.replaceState(null, '', '/');
  });

  /** The page, with `providers`; the policy is asked once per test (the service keeps it). */
  async function render(providers: object[], inputs: Record<string, string> = {}, { policy = true } = {}) {
    const fixture = TestBed.createComponent(Login);
    for (const [name, value] of Object.entries(inputs)) fixture.componentRef.setInput(name, value);
    const list = http.expectOne('/api/auth/providers');
    expect(list.request.method).toBe('GET');
    list.flush({ items: providers });
    if (policy) http.expectOne('/api/auth/policy').flush(policyWith());
    await settle(fixture);
    // A way back to a consent page names its application in the heading.
    for (const asked of http.match((r) => r.url.startsWith('/api/oauth/requests/'))) {
      asked.flush({ client: { clientId: 'c_notes', name: 'Acme Notes' }, scopes: ['openid'], signInRequired: false });
    }
    await settle(fixture);
    return fixture;
  }

  it('shows no provider buttons when the server has none', async () => {
    const fixture = await render([]);
    expect(el(fixture, '[data-testid="providers"]')).toBeNull();
    expect(fixture.nativeElement.textContent).not.toContain('Continue with');
    expect(el(fixture, '#login-password')).not.toBeNull();
  });

  it('shows none either when the list cannot be had', async () => {
    const fixture = TestBed.createComponent(Login);
    http.expectOne('/api/auth/providers').flush(null, { status: 503, statusText: 'Service Unavailable' });
    http.expectOne('/api/auth/policy').flush(policyWith());
    await settle(fixture);
    expect(el(fixture, '[data-testid="providers"]')).toBeNull();
    expect(el(fixture, '[data-testid="provider-error"]')).toBeNull();
  });

  it('a button per enabled provider, with its icon when it has one, under the password form', async () => {
    const fixture = await render([ACME, HUB]);
    const buttons = all(fixture, '[data-testid="provider-signin"]');
    expect(buttons.map((b) => b.textContent?.trim())).toEqual(['Continue with Acme SSO', 'Continue with GitHub']);
    expect(buttons.map((b) => b.querySelector('img')?.getAttribute('src') ?? null)).toEqual([ICON, null]);
    expect(buttons[0].querySelector('img')?.getAttribute('alt')).toBe('');
    // Under the form.
    const form = el(fixture, 'form') as HTMLFormElement;
    expect(form.compareDocumentPosition(buttons[0]) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(buttons[0].getAttribute('href')).toBe('/api/auth/providers/acme/start?returnTo=%2Faccount');
  });

  it('"Continue with …" navigates the page to the start, coming back to the account console by default', async () => {
    const fixture = await render([ACME]);
    (el(fixture, '[data-testid="provider-signin"]') as HTMLAnchorElement).click();
    expect(assign).toHaveBeenCalledExactlyOnceWith('/api/auth/providers/acme/start?returnTo=%2Faccount');
    // A navigation, not a call of the API.
    http.expectNone((r) => r.url.startsWith('/api/auth/providers/acme'));
    expect(router.navigateByUrl).not.toHaveBeenCalled();
  });

  it('comes back to where this login was for (the consent page)', async () => {
    const fixture = await render([ACME], { returnUrl: CONSENT });
    expect(el(fixture, '[data-testid="provider-signin"]')?.getAttribute('href')).toBe(
      `/api/auth/providers/acme/start?returnTo=${encodeURIComponent(CONSENT)}`,
    );
    (el(fixture, '[data-testid="provider-signin"]') as HTMLAnchorElement).click();
    expect(assign).toHaveBeenCalledExactlyOnceWith(`/api/auth/providers/acme/start?returnTo=${encodeURIComponent(CONSENT)}`);
  });

  it('never passes on a way back to another site', async () => {
    const fixture = await render([ACME], { returnUrl: '//evil.example/' });
    expect(el(fixture, '[data-testid="provider-signin"]')?.getAttribute('href')).toBe(
      '/api/auth/providers/acme/start?returnTo=%2Faccount',
    );
  });

  it('?error=provider_link_required names the provider this tab went to', async () => {
    const first = await render([ACME]);
    (el(first, '[data-testid="provider-signin"]') as HTMLAnchorElement).click();
    expect(sessionStorage.getItem('portcullis.lastProvider')).toBe('Acme SSO');
    first.destroy();
    // Back from the provider: the page again.
    const fixture = await render([ACME], { error: 'provider_link_required' }, { policy: false });
    expect(text(fixture, 'provider-error')).toBe(
      'An account with this email already exists. Sign in to it, then link Acme SSO from your account, under Linked sign-ins.',
    );
    expect(el(fixture, '[data-testid="provider-error"]')?.getAttribute('role')).toBe('alert');
  });

  it('says "the provider" when it does not know which, and goes away once the visitor tries again', async () => {
    const fixture = await render([ACME], { error: 'provider_unavailable' });
    expect(text(fixture, 'provider-error')).toBe('The provider could not be reached. Try again in a moment.');
    await type(fixture, '#login-username', 'alice');
    await type(fixture, '#login-password', 'secret-password');
    (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await settle(fixture);
    expect(el(fixture, '[data-testid="provider-error"]')).toBeNull();
    http.expectOne('/api/auth/signin').flush({ message: 'Invalid username or password!' }, { status: 401, statusText: 'Unauthorized' });
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('Invalid username or password!');
  });

  it('a sentence for each code the server sends back, and a plain one for any other', () => {
    const codes = [
      'provider_unknown',
      'provider_unavailable',
      'provider_refused',
      'provider_state_invalid',
      'provider_issuer_mismatch',
      'provider_token_invalid',
      'provider_email_missing',
      'provider_link_required',
      'provider_no_account',
      'provider_account_refused',
      'provider_linked_elsewhere',
      'too_many_requests',
      'invalid_request',
      'provider_failed',
    ];
    const fallback = providerErrorMessage('something_new');
    const sentences = codes.map((code) => providerErrorMessage(code, 'Acme SSO'));
    expect(new Set(sentences).size).toBe(codes.length);
    for (const [i, sentence] of sentences.entries()) {
      expect(sentence, codes[i]).not.toBe(fallback);
      expect(sentence, codes[i]).toMatch(/^[A-Z].*\.$/);
    }
    // Every preset works now: the server no longer sends it, and it has no sentence of its own.
    expect(providerErrorMessage('provider_not_available', 'Acme SSO')).toBe(fallback);
    expect(providerErrorMessage('provider_unknown')).toBe(
      'That sign-in option is not available: it may have been turned off. Sign in another way.',
    );
    expect(providerErrorMessage('provider_refused', 'Acme SSO')).toContain('Acme SSO');
  });

  it('the remembered provider is read once', async () => {
    rememberProvider(sessionStorage, 'Acme SSO');
    await render([ACME], { error: 'provider_refused' });
    expect(sessionStorage.length).toBe(0);
  });

  describe('a second step to take (#mfa=…)', () => {
    it('reads the challenge from the fragment', () => {
      expect(challengeFromFragment(`#mfa=${TOKEN}&methods=totp,passkey,bogus&enrolment=1&returnTo=${encodeURIComponent(CONSENT)}`)).toEqual({
        challenge: { mfaRequired: true, mfaToken: TOKEN, methods: ['totp', 'passkey'], expiresIn: 300, enrolmentRequired: true },
        returnTo: CONSENT,
      });
      expect(challengeFromFragment('#mfa=x&methods=recovery&returnTo=%2F%2Fevil.example')?.returnTo).toBeNull();
      expect(challengeFromFragment('')).toBeNull();
      expect(challengeFromFragment('#top')).toBeNull();
    });

    it('takes it out of the address at once, then goes on as after a password, to its returnTo', async () => {
      history.replaceState(null, '', `/login#mfa=${TOKEN}&methods=totp,recovery&returnTo=${encodeURIComponent(CONSENT)}`);
      const fixture = await render([ACME]);
      expect(location.hash).toBe('');
      expect(location.pathname).toBe('/login');
      expect(text(fixture, 'mfa-step')).toBe('Two-step sign-in');
      expect(el(fixture, '#login-password')).toBeNull();
      expect(el(fixture, '[data-testid="providers"]')).toBeNull();
      expect(TestBed.inject(AuthService).signedIn()).toBe(false);

      await type(fixture, '#mfa-code', '123456');
      (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
      const verify = http.expectOne('/api/auth/mfa/verify');
      expect(verify.request.body).toEqual({ mfaToken: TOKEN, code: '123456' });
      verify.flush({ id: ALICE.id });
      await settle(fixture);
      http.expectOne('/api/auth/me').flush(ALICE);
      await settle(fixture);
      expect(router.navigateByUrl).toHaveBeenCalledExactlyOnceWith(CONSENT);
    });

    it('without a returnTo, to the account console', async () => {
      history.replaceState(null, '', `/login#mfa=${TOKEN}&methods=recovery`);
      const fixture = await render([]);
      expect(location.hash).toBe('');
      // Only a recovery code was named.
      expect(el(fixture, '#mfa-recovery-code')).not.toBeNull();
      expect(el(fixture, '[data-testid="mfa-use-totp"]')).toBeNull();
      await type(fixture, '#mfa-recovery-code', 'abcd-efgh-ijkm-npqr');
      (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
      http.expectOne('/api/auth/mfa/verify').flush({ id: ALICE.id });
      await settle(fixture);
      http.expectOne('/api/auth/me').flush(ALICE);
      await settle(fixture);
      expect(router.navigateByUrl).toHaveBeenCalledExactlyOnceWith('/account');
    });

    it('an enrolment to do (&enrolment=1) starts the TOTP setup with the token', async () => {
      history.replaceState(null, '', `/login#mfa=${TOKEN}&methods=totp&enrolment=1`);
      const fixture = await render([]);
      expect(location.hash).toBe('');
      expect(text(fixture, 'mfa-step')).toBe('Set up two-factor authentication');
      const setup = http.expectOne('/api/auth/mfa/totp/setup');
      expect(setup.request.body).toEqual({ mfaToken: TOKEN });
      setup.flush({ secret: 'JBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXP' });
      await settle(fixture);
    });

    it('a fragment that is not one is left alone', async () => {
      history.replaceState(null, '', '/login#top');
      const fixture = await render([]);
      expect(location.hash).toBe('#top');
      expect(el(fixture, '#login-password')).not.toBeNull();
    });
  });
});
