import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';

import { routes } from '../app.routes';
import { Policy } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { ExternalNavigation } from '../core/external-navigation';
import { ALICE, policyWith, setUpHttp } from '../../testing/http-testing';
import { Register } from './register';

/** The form's rules come from the server's policy: a stricter policy gives a stricter form. */
describe('Register', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
  });

  afterEach(() => http.verify());

  /** Renders with the server's default policy, its rules replaced by `rules`. */
  async function render(rules: Partial<Policy>, returnUrl?: string) {
    const fixture = TestBed.createComponent(Register);
    if (returnUrl !== undefined) fixture.componentRef.setInput('returnUrl', returnUrl);
    http.expectOne('/api/auth/policy').flush({ ...policyWith(), ...rules });
    await fixture.whenStable();
    return fixture;
  }

  async function type(fixture: Awaited<ReturnType<typeof render>>, id: string, value: string) {
    const input = fixture.nativeElement.querySelector(`#${id}`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
  }

  const text = (fixture: Awaited<ReturnType<typeof render>>, testId: string) =>
    (fixture.nativeElement.querySelector(`[data-testid="${testId}"]`) as HTMLElement).textContent?.trim();

  it('shows per-field errors as the user types, with the limits the server sent', async () => {
    const fixture = await render({
      username: { minLength: 5, maxLength: 9, pattern: '^[a-z]+$' },
      email: { maxLength: 254 },
      password: { minLength: 12, maxLength: 64 },
    });
    await type(fixture, 'reg-username', 'abcd');
    expect(text(fixture, 'username-error')).toBe('Username must be 5 to 9 characters.');
    expect(fixture.nativeElement.querySelector('#reg-username').classList).toContain('is-invalid');
    await type(fixture, 'reg-username', 'ABCDE');
    expect(text(fixture, 'username-error')).toMatch(/may only use/);
    await type(fixture, 'reg-username', 'abcde');
    expect(fixture.nativeElement.querySelector('#reg-username').classList).not.toContain('is-invalid');

    await type(fixture, 'reg-password', 'elevenchars');
    expect(text(fixture, 'password-error')).toBe('Password must be at least 12 characters.');
    await type(fixture, 'reg-email', 'nope');
    expect(text(fixture, 'email-error')).toBe('Email must be a valid email address.');
  });

  it('shows a taken address on its field, and other refusals in the alert', async () => {
    const fixture = await render({
      username: { minLength: 3, maxLength: 20, pattern: '^[A-Za-z0-9._-]{3,20}$' },
      email: { maxLength: 254 },
      password: { minLength: 8, maxLength: 128 },
    });
    await type(fixture, 'reg-username', 'alice');
    await type(fixture, 'reg-email', 'alice@example.com');
    await type(fixture, 'reg-password', 'a long enough password');
    (fixture.nativeElement.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http
      .expectOne('/api/auth/signup')
      .flush({ message: 'Failed! Email is already in use!', code: 'email_taken' }, { status: 409, statusText: 'Conflict' });
    await fixture.whenStable();
    expect(text(fixture, 'email-error')).toBe('Failed! Email is already in use!');
    expect(fixture.nativeElement.querySelector('#reg-email').classList).toContain('is-invalid');
    expect(fixture.nativeElement.querySelector('[data-testid="error"]')).toBeNull();
    // Another address clears it.
    await type(fixture, 'reg-email', 'alice2@example.com');
    expect(fixture.nativeElement.querySelector('#reg-email').classList).not.toContain('is-invalid');

    (fixture.nativeElement.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http
      .expectOne('/api/auth/signup')
      .flush({ message: 'This password is too common.', code: 'password_too_common' }, { status: 400, statusText: 'Bad Request' });
    await fixture.whenStable();
    expect(text(fixture, 'error')).toBe('This password is too common.');
  });

  const RULES: Partial<Policy> = {
    username: { minLength: 3, maxLength: 20, pattern: '^[A-Za-z0-9._-]{3,20}$' },
    email: { maxLength: 254 },
    password: { minLength: 8, maxLength: 128 },
  };

  async function signUp(fixture: Awaited<ReturnType<typeof render>>) {
    await type(fixture, 'reg-username', 'alice');
    await type(fixture, 'reg-email', 'alice@example.com');
    await type(fixture, 'reg-password', 'a long enough password');
    (fixture.nativeElement.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const post = http.expectOne('/api/auth/signup');
    expect(post.request.body).toEqual({ username: 'alice', email: 'alice@example.com', password: 'a long enough password' });
    post.flush({ message: 'User registered successfully!', code: 'created' }, { status: 201, statusText: 'Created' });
    await fixture.whenStable();
  }

  it('once signed up, goes to the login page with the username to fill in (no session is made)', async () => {
    const fixture = await render(RULES);
    await signUp(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { reason: 'registered' },
      state: { username: 'alice' },
    });
  });

  it("keeps the way back it was given (an application's consent page)", async () => {
    const back = '/oauth/consent?request=req_abc&fresh=1';
    const fixture = await render(RULES, back);
    await signUp(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { reason: 'registered', returnUrl: back },
      state: { username: 'alice' },
    });
  });

  it('never hands on a way back to another site', async () => {
    const fixture = await render(RULES, '//evil.example/');
    await signUp(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { reason: 'registered' },
      state: { username: 'alice' },
    });
  });

  it('names the product in its heading', async () => {
    const fixture = await render(RULES);
    expect(text(fixture, 'register-heading')).toBe('Sign up for Portcullis');
  });
});

/**
 * Signing up with a passkey, where the policy says `passkeySignup` and the browser can make
 * one: username and email, the browser's dialog, and the account is signed in.
 */
describe('Register with a passkey', () => {
  let http: HttpTestingController;
  let router: Router;
  let create: ReturnType<typeof vi.fn>;
  let navigateByUrl: ReturnType<typeof vi.spyOn>;
  let assign: ReturnType<typeof vi.spyOn>;

  const CREDENTIAL = { id: 'new-cred', type: 'public-key', response: { attestationObject: 'a' } };
  const OPTIONS = { publicKey: { challenge: 'c', rp: { id: 'localhost', name: 'Portcullis' }, user: { id: 'u', name: 'alice', displayName: 'alice' } } };
  const CONFLICT = { status: 409, statusText: 'Conflict' };

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    // The app's own routes: which paths are its pages decides how the page goes on.
    router.resetConfig(routes);
    navigateByUrl = vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
    assign = vi.spyOn(TestBed.inject(ExternalNavigation), 'assign').mockReturnValue(true);
    class FakePublicKeyCredential {
      static parseRequestOptionsFromJSON = vi.fn((options: unknown) => ({ parsed: options }));
      static parseCreationOptionsFromJSON = vi.fn((options: unknown) => ({ parsed: options }));
    }
    vi.stubGlobal('PublicKeyCredential', FakePublicKeyCredential);
    create = vi.fn(async () => ({ toJSON: () => CREDENTIAL }));
    Object.defineProperty(navigator, 'credentials', { value: { get: vi.fn(), create }, configurable: true });
  });

  afterEach(() => {
    http.verify();
    vi.unstubAllGlobals();
    Reflect.deleteProperty(navigator, 'credentials');
  });

  async function settle(fixture: ComponentFixture<Register>) {
    for (let i = 0; i < 3; i++) {
      await new Promise((done) => setTimeout(done));
      await fixture.whenStable();
    }
  }

  async function render(passkeySignup = true, returnUrl?: string) {
    const fixture = TestBed.createComponent(Register);
    if (returnUrl !== undefined) fixture.componentRef.setInput('returnUrl', returnUrl);
    http.expectOne('/api/auth/policy').flush({ ...policyWith(), passkeySignup });
    await settle(fixture);
    return fixture;
  }

  const el = (fixture: ComponentFixture<Register>, selector: string) =>
    fixture.nativeElement.querySelector(selector) as HTMLElement | null;
  const text = (fixture: ComponentFixture<Register>, testId: string) => el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim();

  async function type(fixture: ComponentFixture<Register>, id: string, value: string) {
    const input = el(fixture, `#${id}`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
  }

  /** Fills username and email and presses "Sign up with a passkey"; the start request. */
  async function start(fixture: ComponentFixture<Register>) {
    await type(fixture, 'reg-username', 'alice');
    await type(fixture, 'reg-email', 'alice@example.com');
    (el(fixture, '[data-testid="passkey-signup"]') as HTMLButtonElement).click();
    const request = http.expectOne('/api/auth/passkeys/signup/start');
    expect(request.request.method).toBe('POST');
    expect(request.request.body).toEqual({ username: 'alice', email: 'alice@example.com' });
    return request;
  }

  it('offers the passkey first, asks no password, and the password one click away', async () => {
    const fixture = await render();
    expect(el(fixture, '#reg-username')).not.toBeNull();
    expect(el(fixture, '#reg-email')).not.toBeNull();
    expect(el(fixture, '#reg-password')).toBeNull();
    expect(text(fixture, 'passkey-signup')).toBe('Sign up with a passkey');
    const buttons = Array.from(fixture.nativeElement.querySelectorAll('button') as NodeListOf<HTMLButtonElement>).map((b) => b.textContent?.trim());
    expect(buttons).toEqual(['Sign up with a passkey', 'Or choose a password']);

    (el(fixture, '[data-testid="choose-password"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(el(fixture, '[data-testid="passkey-signup"]')).toBeNull();
    expect(document.activeElement).toBe(el(fixture, '#reg-password'));
    await type(fixture, 'reg-username', 'alice');
    await type(fixture, 'reg-email', 'alice@example.com');
    (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await fixture.whenStable();
    expect(text(fixture, 'password-error')).toBe('Password is required.');
    http.expectNone('/api/auth/signup');
    await type(fixture, 'reg-password', 'a long enough password');
    (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http.expectOne('/api/auth/signup').flush({ message: 'User registered successfully!' }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(router.navigate).toHaveBeenCalledWith(['/login'], { queryParams: { reason: 'registered' }, state: { username: 'alice' } });
    expect(create).not.toHaveBeenCalled();
  });

  it('the passkey again after choosing the password: the password field goes, with its rules', async () => {
    const fixture = await render();
    (el(fixture, '[data-testid="choose-password"]') as HTMLButtonElement).click();
    await settle(fixture);
    (el(fixture, '[data-testid="choose-passkey"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(el(fixture, '#reg-password')).toBeNull();
    expect(document.activeElement).toBe(el(fixture, '[data-testid="passkey-signup"]'));
    const request = await start(fixture);
    request.flush({ message: 'Signing up with a passkey is off on this server.', code: 'passkey_signup_disabled' }, { status: 403, statusText: 'Forbidden' });
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('Signing up with a passkey is off on this server.');
  });

  it('makes the account with the passkey and signs in: start, the browser, finish, /me, then the account console', async () => {
    const fixture = await render();
    (await start(fixture)).flush(OPTIONS);
    await settle(fixture);
    expect(create).toHaveBeenCalledExactlyOnceWith({ publicKey: { parsed: OPTIONS.publicKey } });
    const finish = http.expectOne('/api/auth/passkeys/signup/finish');
    expect(finish.request.method).toBe('POST');
    expect(finish.request.body).toEqual({ credential: CREDENTIAL });
    expect(finish.request.headers.get('X-Token-Delivery')).toBe('cookie');
    expect(finish.request.withCredentials).toBe(true);
    expect((el(fixture, '[data-testid="passkey-signup"]') as HTMLButtonElement).disabled).toBe(true);
    finish.flush({ id: 7, username: 'alice' }, { status: 201, statusText: 'Created' });
    await settle(fixture);
    expect(navigateByUrl).not.toHaveBeenCalled();
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(TestBed.inject(AuthService).user()?.username).toBe('alice');
    expect(navigateByUrl).toHaveBeenCalledExactlyOnceWith('/account');
    expect(router.navigate).not.toHaveBeenCalled();
  });

  /** Signs up with the passkey from a page given `returnUrl`, to the end. */
  async function signUpFrom(returnUrl: string) {
    const fixture = await render(true, returnUrl);
    (await start(fixture)).flush(OPTIONS);
    await settle(fixture);
    http.expectOne('/api/auth/passkeys/signup/finish').flush({}, { status: 201, statusText: 'Created' });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
  }

  it("goes back where the page was for (an application's consent page)", async () => {
    const back = '/oauth/consent?request=req_abc&fresh=1';
    await signUpFrom(back);
    expect(navigateByUrl).toHaveBeenCalledExactlyOnceWith(back);
    expect(assign).not.toHaveBeenCalled();
  });

  it('never goes on to another site: the account console instead', async () => {
    await signUpFrom('//evil.example/');
    expect(navigateByUrl).toHaveBeenCalledExactlyOnceWith('/account');
    expect(assign).not.toHaveBeenCalled();
  });

  it("an app's path behind forward authentication is a full page load", async () => {
    await signUpFrom('/app/reports');
    expect(assign).toHaveBeenCalledExactlyOnceWith('/app/reports');
    expect(navigateByUrl).not.toHaveBeenCalled();
  });

  for (const [how, answer] of [
    ['no credential', async () => null],
    ['NotAllowedError', async () => Promise.reject(new DOMException('closed', 'NotAllowedError'))],
  ] as const) {
    it(`a closed dialog (${how}) says so calmly and leaves the form as it was`, async () => {
      create.mockImplementation(answer);
      const fixture = await render();
      (await start(fixture)).flush(OPTIONS);
      await settle(fixture);
      http.expectNone('/api/auth/passkeys/signup/finish');
      expect(text(fixture, 'passkey-notice')).toMatch(/^No passkey was used: the request was cancelled/);
      expect(el(fixture, '[data-testid="passkey-notice"]')?.getAttribute('role')).toBe('status');
      expect(el(fixture, '[data-testid="error"]')).toBeNull();
      expect((el(fixture, '#reg-username') as HTMLInputElement).value).toBe('alice');
      expect((el(fixture, '#reg-email') as HTMLInputElement).value).toBe('alice@example.com');
      expect(el(fixture, '.is-invalid')).toBeNull();
      expect((el(fixture, '[data-testid="passkey-signup"]') as HTMLButtonElement).disabled).toBe(false);
      expect(navigateByUrl).not.toHaveBeenCalled();

      // Trying again starts a new ceremony, and the calm word goes.
      create.mockImplementation(async () => ({ toJSON: () => CREDENTIAL }));
      (el(fixture, '[data-testid="passkey-signup"]') as HTMLButtonElement).click();
      await fixture.whenStable();
      expect(el(fixture, '[data-testid="passkey-notice"]')).toBeNull();
      http.expectOne('/api/auth/passkeys/signup/start').flush(OPTIONS);
      await settle(fixture);
      http.expectOne('/api/auth/passkeys/signup/finish').flush({}, { status: 201, statusText: 'Created' });
      await settle(fixture);
      http.expectOne('/api/auth/me').flush(ALICE);
      await settle(fixture);
      expect(navigateByUrl).toHaveBeenCalledExactlyOnceWith('/account');
    });
  }

  it('a taken username shows on its field, and no passkey is made', async () => {
    const fixture = await render();
    (await start(fixture)).flush({ message: 'Failed! Username is already in use!', code: 'username_taken' }, CONFLICT);
    await settle(fixture);
    expect(text(fixture, 'username-error')).toBe('Failed! Username is already in use!');
    expect(el(fixture, '#reg-username')?.classList).toContain('is-invalid');
    expect(el(fixture, '[data-testid="error"]')).toBeNull();
    expect(create).not.toHaveBeenCalled();
  });

  it('an email taken since the start shows on its field', async () => {
    const fixture = await render();
    (await start(fixture)).flush(OPTIONS);
    await settle(fixture);
    http.expectOne('/api/auth/passkeys/signup/finish').flush({ message: 'Failed! Email is already in use!', code: 'email_taken' }, CONFLICT);
    await settle(fixture);
    expect(text(fixture, 'email-error')).toBe('Failed! Email is already in use!');
    expect(el(fixture, '#reg-email')?.classList).toContain('is-invalid');
    expect(navigateByUrl).not.toHaveBeenCalled();
  });

  it('a passkey the server rejects: its message in the alert', async () => {
    const fixture = await render();
    (await start(fixture)).flush(OPTIONS);
    await settle(fixture);
    http
      .expectOne('/api/auth/passkeys/signup/finish')
      .flush({ message: 'The passkey could not be verified.', code: 'passkey_rejected' }, { status: 400, statusText: 'Bad Request' });
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('The passkey could not be verified.');
    expect(el(fixture, '[data-testid="error"]')?.getAttribute('role')).toBe('alert');
    expect(navigateByUrl).not.toHaveBeenCalled();
  });

  it('email_not_verified: the account is made; the page says to open the mailed link, then sign in with the passkey', async () => {
    const fixture = await render(true, '/oauth/consent?request=req_abc');
    (await start(fixture)).flush(OPTIONS);
    await settle(fixture);
    http
      .expectOne('/api/auth/passkeys/signup/finish')
      .flush({ message: 'Please verify your email address first.', code: 'email_not_verified' }, { status: 403, statusText: 'Forbidden' });
    await settle(fixture);
    http.expectNone('/api/auth/me');
    const made = text(fixture, 'passkey-signup-unverified');
    expect(made).toContain('Your account is made');
    expect(made).toContain('alice@example.com');
    expect(made).toContain('sign in with your passkey');
    expect(el(fixture, 'form')).toBeNull();
    expect(el(fixture, '[data-testid="error"]')).toBeNull();
    expect(el(fixture, '[data-testid="passkey-signup-signin"]')?.getAttribute('href')).toBe(
      '/login?returnUrl=%2Foauth%2Fconsent%3Frequest%3Dreq_abc',
    );
    expect(navigateByUrl).not.toHaveBeenCalled();
  });

  it('empty fields: their errors, and nothing is asked of the server or the browser', async () => {
    const fixture = await render();
    (el(fixture, '[data-testid="passkey-signup"]') as HTMLButtonElement).click();
    await settle(fixture);
    expect(text(fixture, 'username-error')).toBe('Username is required.');
    expect(text(fixture, 'email-error')).toBe('Email is required.');
    http.expectNone('/api/auth/passkeys/signup/start');
    expect(create).not.toHaveBeenCalled();
  });

  it('no passkey choice where the policy says no', async () => {
    const fixture = await render(false);
    expect(el(fixture, '[data-testid="passkey-signup"]')).toBeNull();
    expect(el(fixture, '[data-testid="choose-password"]')).toBeNull();
    expect(el(fixture, '[data-testid="choose-passkey"]')).toBeNull();
    expect(el(fixture, '#reg-password')).not.toBeNull();
  });

  it('no passkey choice where the browser cannot make one', async () => {
    vi.unstubAllGlobals();
    const fixture = await render(true);
    expect(el(fixture, '[data-testid="passkey-signup"]')).toBeNull();
    expect(el(fixture, '[data-testid="choose-passkey"]')).toBeNull();
    expect(el(fixture, '#reg-password')).not.toBeNull();
  });
});
