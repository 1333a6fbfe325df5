import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { MfaChallenge } from '../core/api.models';
import { ALICE, policyWith, setUpHttp, unauthorized } from '../../testing/http-testing';
import { Login } from './login';
import { MagicLink } from './magic-link';

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
  el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim();

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

async function click(fixture: ComponentFixture<unknown>, testId: string) {
  const button = el(fixture, `[data-testid="${testId}"]`) as HTMLButtonElement;
  expect(button).not.toBeNull();
  button.click();
  await fixture.whenStable();
}

function submit(fixture: ComponentFixture<unknown>) {
  (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const CHALLENGE: MfaChallenge = {
  mfaRequired: true,
  mfaToken: 'm'.repeat(43),
  methods: ['totp', 'recovery'],
  expiresIn: 300,
};

const BAD_REQUEST = { status: 400, statusText: 'Bad Request' };
const CODE_INVALID = { message: 'The code is not valid.', code: 'mfa_code_invalid' };
const TOKEN_INVALID = { message: 'The sign-in has expired. Sign in again.', code: 'mfa_token_invalid' };

/** A stand-in for the browser's WebAuthn: `get`'s outcome is the test's. */
function fakeWebAuthn(get: () => Promise<unknown>) {
  const credentials = { get: vi.fn(get), create: vi.fn() };
  class FakePublicKeyCredential {
    static parseRequestOptionsFromJSON = vi.fn((options: unknown) => ({ parsed: options }));
    static parseCreationOptionsFromJSON = vi.fn((options: unknown) => ({ parsed: options }));
  }
  vi.stubGlobal('PublicKeyCredential', FakePublicKeyCredential);
  Object.defineProperty(navigator, 'credentials', { value: credentials, configurable: true });
  return credentials;
}

describe('Login: passkeys and the second step', () => {
  let http: HttpTestingController;
  let router: Router;
  let auth: AuthService;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    auth = TestBed.inject(AuthService);
    vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
  });

  afterEach(() => {
    http.verify();
    vi.unstubAllGlobals();
    Reflect.deleteProperty(navigator, 'credentials');
  });

  async function render() {
    const fixture = TestBed.createComponent(Login);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    http.expectOne('/api/auth/policy').flush(policyWith());
    await fixture.whenStable();
    return fixture;
  }

  /** Signs in with a password whose answer is `challenge`. */
  async function toSecondStep(challenge: MfaChallenge = CHALLENGE) {
    const fixture = await render();
    await type(fixture, '#login-username', 'alice');
    await type(fixture, '#login-password', 'secret-password');
    submit(fixture);
    http.expectOne('/api/auth/signin').flush(challenge);
    await settle(fixture);
    return fixture;
  }

  it('an answer with mfaRequired shows the code step, and no session is assumed', async () => {
    const fixture = await toSecondStep();
    http.expectNone('/api/auth/me');
    expect(el(fixture, '#login-password')).toBeNull();
    expect(text(fixture, 'mfa-step')).toBe('Two-step sign-in');
    const code = el(fixture, '#mfa-code') as HTMLInputElement;
    expect(code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(code.getAttribute('inputmode')).toBe('numeric');
    expect(text(fixture, 'mfa-use-recovery')).toBe('Use a recovery code');
    expect(el(fixture, '[data-testid="mfa-use-passkey"]')).toBeNull();
    expect(auth.signedIn()).toBe(false);
    expect(router.navigateByUrl).not.toHaveBeenCalled();
  });

  it('verify posts {mfaToken, code}; its answer signs in, as a password would', async () => {
    const fixture = await toSecondStep();
    await type(fixture, '#mfa-code', '123 456');
    submit(fixture);
    const verify = http.expectOne('/api/auth/mfa/verify');
    expect(verify.request.method).toBe('POST');
    expect(verify.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken, code: '123456' });
    expect(verify.request.headers.get('X-Token-Delivery')).toBe('cookie');
    verify.flush({ id: ALICE.id, username: ALICE.username, email: ALICE.email, roles: ALICE.roles });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(auth.user()).toEqual(ALICE);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account');
  });

  it('sends nothing for a code that is not 6 digits', async () => {
    const fixture = await toSecondStep();
    await type(fixture, '#mfa-code', '12345');
    submit(fixture);
    await settle(fixture);
    http.expectNone('/api/auth/mfa/verify');
    expect(el(fixture, '#mfa-code')?.classList).toContain('is-invalid');
  });

  it('a wrong code stays on the step with the server words (no "session ended")', async () => {
    const fixture = await toSecondStep();
    await type(fixture, '#mfa-code', '000000');
    submit(fixture);
    http.expectOne('/api/auth/mfa/verify').flush(CODE_INVALID, unauthorized());
    await settle(fixture);
    expect(text(fixture, 'mfa-error')).toBe('The code is not valid.');
    expect((el(fixture, '#mfa-code') as HTMLInputElement).value).toBe('');
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('a recovery code goes the same way', async () => {
    const fixture = await toSecondStep();
    await click(fixture, 'mfa-use-recovery');
    expect(el(fixture, '#mfa-code')).toBeNull();
    await type(fixture, '#mfa-recovery-code', ' ABCD-efgh-ijkm-npqr ');
    submit(fixture);
    const verify = http.expectOne('/api/auth/mfa/verify');
    expect(verify.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken, code: 'ABCD-efgh-ijkm-npqr' });
    verify.flush({ id: ALICE.id });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account');
  });

  it('on mfa_token_invalid goes back to the password step with the message', async () => {
    const fixture = await toSecondStep();
    await type(fixture, '#mfa-code', '123456');
    submit(fixture);
    http.expectOne('/api/auth/mfa/verify').flush(TOKEN_INVALID, unauthorized());
    await settle(fixture);
    expect(el(fixture, '#mfa-code')).toBeNull();
    expect(el(fixture, '#login-password')).not.toBeNull();
    expect(text(fixture, 'error')).toBe('The sign-in has expired. Sign in again.');
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('"Use a passkey": mfa/passkey/start, the browser, then mfa/verify with {mfaToken, credential}', async () => {
    const credentials = fakeWebAuthn(async () => ({ toJSON: () => ({ id: 'cred', type: 'public-key' }) }));
    const fixture = await toSecondStep({ ...CHALLENGE, methods: ['totp', 'passkey', 'recovery'] });
    await click(fixture, 'mfa-use-passkey');
    const start = http.expectOne('/api/auth/mfa/passkey/start');
    expect(start.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken });
    start.flush({ publicKey: { challenge: 'abc', rpId: 'localhost', allowCredentials: [{ id: 'cred', type: 'public-key' }], userVerification: null } });
    await settle(fixture);
    expect(credentials.get).toHaveBeenCalledWith({
      publicKey: { parsed: { challenge: 'abc', rpId: 'localhost', allowCredentials: [{ id: 'cred', type: 'public-key' }] } },
    });
    const verify = http.expectOne('/api/auth/mfa/verify');
    expect(verify.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken, credential: { id: 'cred', type: 'public-key' } });
    verify.flush({ id: ALICE.id });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account');
  });

  it('a passkey-only second step offers the passkey and no code field', async () => {
    fakeWebAuthn(async () => null);
    const fixture = await toSecondStep({ ...CHALLENGE, methods: ['passkey'] });
    expect(el(fixture, '#mfa-code')).toBeNull();
    expect(el(fixture, '#mfa-recovery-code')).toBeNull();
    expect(text(fixture, 'mfa-use-passkey')).toBe('Use a passkey');
    expect(el(fixture, '[data-testid="mfa-use-recovery"]')).toBeNull();
  });

  it('enrolment required: setup and confirm with the mfaToken, then the recovery codes, then the app', async () => {
    const fixture = await toSecondStep({ ...CHALLENGE, methods: [], enrolmentRequired: true });
    const setup = http.expectOne('/api/auth/mfa/totp/setup');
    expect(setup.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken });
    setup.flush({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portcullis' });
    await settle(fixture);
    expect(text(fixture, 'mfa-step')).toBe('Set up two-factor authentication');
    expect(text(fixture, 'totp-secret')?.replace(/\s+/g, '')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect((el(fixture, '[data-testid="qr-code"]') as HTMLImageElement).src).toMatch(/^data:image\/svg\+xml/);

    await type(fixture, '#totp-code', '654321');
    submit(fixture);
    const confirm = http.expectOne('/api/auth/mfa/totp/confirm');
    expect(confirm.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken, code: '654321' });
    const codes = Array.from({ length: 10 }, (_, i) => `abcd-efgh-ijkm-np${String(i).padStart(2, '0')}`);
    confirm.flush({ id: ALICE.id, username: ALICE.username, recoveryCodes: codes });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(auth.user()).toEqual(ALICE);
    const shown = Array.from(fixture.nativeElement.querySelectorAll('[data-testid="recovery-code"]') as NodeListOf<HTMLElement>).map((li) => li.textContent?.trim());
    expect(shown).toEqual(codes);
    expect(router.navigateByUrl).not.toHaveBeenCalled();
    await click(fixture, 'mfa-continue');
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account');
  });

  it('enrolment: a wrong code (400) stays on the step; an expired sign-in (401) goes back to the password', async () => {
    const fixture = await toSecondStep({ ...CHALLENGE, methods: [], enrolmentRequired: true });
    http.expectOne('/api/auth/mfa/totp/setup').flush({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portcullis' });
    await settle(fixture);

    await type(fixture, '#totp-code', '000000');
    submit(fixture);
    const wrong = http.expectOne('/api/auth/mfa/totp/confirm');
    expect(wrong.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken, code: '000000' });
    wrong.flush(CODE_INVALID, BAD_REQUEST);
    await settle(fixture);
    http.expectNone('/api/auth/me');
    expect(text(fixture, 'mfa-step')).toBe('Set up two-factor authentication');
    expect(text(fixture, 'totp-error')).toBe('The code is not valid.');
    expect((el(fixture, '#totp-code') as HTMLInputElement).value).toBe('');
    expect(auth.signedIn()).toBe(false);

    await type(fixture, '#totp-code', '123456');
    submit(fixture);
    http.expectOne('/api/auth/mfa/totp/confirm').flush(TOKEN_INVALID, unauthorized());
    await settle(fixture);
    expect(el(fixture, '#totp-code')).toBeNull();
    expect(el(fixture, '#login-password')).not.toBeNull();
    expect(text(fixture, 'error')).toBe('The sign-in has expired. Sign in again.');
    expect(router.navigate).not.toHaveBeenCalled();
    expect(router.navigateByUrl).not.toHaveBeenCalled();
  });
});

describe('Login: "Sign in with a passkey"', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
  });

  afterEach(() => {
    http.verify();
    vi.unstubAllGlobals();
    Reflect.deleteProperty(navigator, 'credentials');
  });

  /** The login page, with a policy whose `passkeys` is `passkeys`. */
  async function render(passkeys = true) {
    const fixture = TestBed.createComponent(Login);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    http.expectOne('/api/auth/policy').flush(policyWith({}, undefined, passkeys));
    await fixture.whenStable();
    return fixture;
  }

  it('is hidden where the browser has no PublicKeyCredential', async () => {
    expect('PublicKeyCredential' in window).toBe(false);
    const fixture = await render();
    expect(el(fixture, '[data-testid="passkey-signin"]')).toBeNull();
  });

  it('shows where the browser can and the policy says passkeys are on', async () => {
    fakeWebAuthn(async () => null);
    const fixture = await render(true);
    expect(text(fixture, 'passkey-signin')).toBe('Sign in with a passkey');
  });

  it('is hidden where the policy says passkeys are off, though the browser can', async () => {
    fakeWebAuthn(async () => null);
    const fixture = await render(false);
    expect(el(fixture, '[data-testid="passkey-signin"]')).toBeNull();
    expect(el(fixture, '#login-password')).not.toBeNull();
  });

  it('is hidden until the policy is known, and if it cannot be', async () => {
    fakeWebAuthn(async () => null);
    const fixture = TestBed.createComponent(Login);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    await fixture.whenStable();
    expect(el(fixture, '[data-testid="passkey-signin"]')).toBeNull();
    http.expectOne('/api/auth/policy').flush(null, { status: 503, statusText: 'Service Unavailable' });
    await settle(fixture);
    expect(el(fixture, '[data-testid="passkey-signin"]')).toBeNull();
  });

  it('signs in without a username: start, the browser, finish with {credential}, then /me', async () => {
    const credentials = fakeWebAuthn(async () => ({ toJSON: () => ({ id: 'cred', response: { userHandle: 'u' } }) }));
    const fixture = await render();
    await click(fixture, 'passkey-signin');
    const start = http.expectOne('/api/auth/passkeys/signin/start');
    expect(start.request.method).toBe('POST');
    expect(start.request.body).toBeNull();
    start.flush({ publicKey: { challenge: 'xyz', rpId: 'localhost' } });
    await settle(fixture);
    expect(credentials.get).toHaveBeenCalledTimes(1);
    const finish = http.expectOne('/api/auth/passkeys/signin/finish');
    expect(finish.request.body).toEqual({ credential: { id: 'cred', response: { userHandle: 'u' } } });
    expect(finish.request.headers.get('X-Token-Delivery')).toBe('cookie');
    finish.flush({ id: ALICE.id, username: ALICE.username });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account');
  });

  it('a cancelled ceremony says so and sends nothing to finish', async () => {
    fakeWebAuthn(async () => {
      throw new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError');
    });
    const fixture = await render();
    await click(fixture, 'passkey-signin');
    http.expectOne('/api/auth/passkeys/signin/start').flush({ publicKey: { challenge: 'xyz' } });
    await settle(fixture);
    http.expectNone('/api/auth/passkeys/signin/finish');
    expect(text(fixture, 'error')).toMatch(/^No passkey was used: the request was cancelled or timed out/);
    expect(router.navigateByUrl).not.toHaveBeenCalled();
    expect((el(fixture, '[data-testid="passkey-signin"]') as HTMLButtonElement).disabled).toBe(false);
  });

  it("a passkey the server refuses shows the server's words, without 'session ended'", async () => {
    fakeWebAuthn(async () => ({ toJSON: () => ({ id: 'gone' }) }));
    const fixture = await render();
    await click(fixture, 'passkey-signin');
    http.expectOne('/api/auth/passkeys/signin/start').flush({ publicKey: { challenge: 'xyz' } });
    await settle(fixture);
    http
      .expectOne('/api/auth/passkeys/signin/finish')
      .flush({ message: 'Passkey sign-in failed.', code: 'passkey_invalid' }, unauthorized());
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('Passkey sign-in failed.');
    expect(router.navigate).not.toHaveBeenCalled();
  });
});

describe('MagicLink: the second step', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
  });

  afterEach(() => http.verify());

  it('a link whose answer is mfaRequired asks for the code, then signs in', async () => {
    const fixture = TestBed.createComponent(MagicLink);
    fixture.componentRef.setInput('token', 'tok');
    await fixture.whenStable();
    http.expectOne('/api/auth/magic-link/confirm').flush(CHALLENGE);
    await settle(fixture);
    http.expectNone('/api/auth/me');
    expect(text(fixture, 'mfa-step')).toBe('Two-step sign-in');
    await type(fixture, '#mfa-code', '111222');
    submit(fixture);
    const verify = http.expectOne('/api/auth/mfa/verify');
    expect(verify.request.body).toEqual({ mfaToken: CHALLENGE.mfaToken, code: '111222' });
    verify.flush({ id: ALICE.id });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account', { replaceUrl: true });
  });

  it('an expired second step shows the message and the ways to start again', async () => {
    const fixture = TestBed.createComponent(MagicLink);
    fixture.componentRef.setInput('token', 'tok');
    await fixture.whenStable();
    http.expectOne('/api/auth/magic-link/confirm').flush(CHALLENGE);
    await settle(fixture);
    await type(fixture, '#mfa-code', '111222');
    submit(fixture);
    http.expectOne('/api/auth/mfa/verify').flush(TOKEN_INVALID, unauthorized());
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('The sign-in has expired. Sign in again.');
    expect(el(fixture, 'a[href="/login"]')).not.toBeNull();
  });
});
