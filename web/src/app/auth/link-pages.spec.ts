import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { ALICE, policyWith, setUpHttp } from '../../testing/http-testing';
import { Login } from './login';
import { MagicLink } from './magic-link';
import { VerifyEmail } from './verify-email';

const DEAD = { code: 'invalid_token', message: 'This link is invalid or has expired.' };
const BAD_REQUEST = { status: 400, statusText: 'Bad Request' };

/** Lets the page's promise chains finish, then renders. */
async function settle(fixture: ComponentFixture<unknown>) {
  await new Promise((done) => setTimeout(done));
  await fixture.whenStable();
}

const text = (fixture: ComponentFixture<unknown>, testId: string) =>
  (fixture.nativeElement.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null)?.textContent?.trim();

describe('VerifyEmail', () => {
  let http: HttpTestingController;
  let auth: AuthService;

  beforeEach(() => {
    ({ http } = setUpHttp());
    auth = TestBed.inject(AuthService);
  });

  afterEach(() => http.verify());

  async function open(token: string | undefined) {
    const fixture = TestBed.createComponent(VerifyEmail);
    fixture.componentRef.setInput('token', token);
    await fixture.whenStable();
    return fixture;
  }

  it('sends the token as the page opens and shows the answer', async () => {
    const fixture = await open('tok');
    expect(text(fixture, 'working')).toMatch(/Checking/);
    const req = http.expectOne('/api/auth/verify-email');
    expect(req.request.body).toEqual({ token: 'tok' });
    req.flush({ message: 'Your email address is verified.' });
    await settle(fixture);
    expect(text(fixture, 'success')).toBe('Your email address is verified.');
    expect(fixture.nativeElement.querySelector('a[href="/login"]')).not.toBeNull();
  });

  it("asks for a signed-in user's account again, so the banner and profile follow", async () => {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush({ ...ALICE, emailVerified: false });
    await loading;
    const fixture = await open('tok');
    http.expectOne('/api/auth/verify-email').flush({ message: 'Your email address has been changed.' });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush({ ...ALICE, email: 'alice@example.org' });
    await settle(fixture);
    expect(text(fixture, 'success')).toBe('Your email address has been changed.');
    expect(auth.user()?.email).toBe('alice@example.org');
    expect(auth.user()?.emailVerified).toBe(true);
    expect(fixture.nativeElement.querySelector('a[href="/account"]')).not.toBeNull();
  });

  it('shows a dead link as the server words it', async () => {
    const fixture = await open('used');
    http.expectOne('/api/auth/verify-email').flush(DEAD, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('This link is invalid or has expired.');
  });

  it('sends nothing for a link without a token', async () => {
    const fixture = await open(undefined);
    http.expectNone('/api/auth/verify-email');
    expect(text(fixture, 'error')).toMatch(/incomplete/);
  });
});

describe('MagicLink', () => {
  let http: HttpTestingController;
  let router: Router;
  let auth: AuthService;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    auth = TestBed.inject(AuthService);
    vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
  });

  afterEach(() => http.verify());

  async function open(token: string) {
    const fixture = TestBed.createComponent(MagicLink);
    fixture.componentRef.setInput('token', token);
    await fixture.whenStable();
    return fixture;
  }

  it('signs in with the token and goes where a sign-in goes', async () => {
    const fixture = await open('tok');
    const req = http.expectOne('/api/auth/magic-link/confirm');
    expect(req.request.body).toEqual({ token: 'tok' });
    req.flush({ id: ALICE.id, username: ALICE.username, email: ALICE.email, roles: ALICE.roles });
    await settle(fixture);
    http.expectOne('/api/auth/me').flush(ALICE);
    await settle(fixture);
    expect(auth.user()).toEqual(ALICE);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/account', { replaceUrl: true });
  });

  it('a dead link shows the server message and a way to a new one', async () => {
    const fixture = await open('used');
    http.expectOne('/api/auth/magic-link/confirm').flush(DEAD, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'error')).toBe('This link is invalid or has expired.');
    expect(fixture.nativeElement.querySelector('a[href="/sign-in-link"]')).not.toBeNull();
    expect(auth.signedIn()).toBe(false);
    expect(router.navigateByUrl).not.toHaveBeenCalled();
  });
});

describe('Login', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(mail: Parameters<typeof policyWith>[0]) {
    const fixture = TestBed.createComponent(Login);
    http.expectOne('/api/auth/providers').flush({ items: [] });
    http.expectOne('/api/auth/policy').flush(policyWith(mail));
    await fixture.whenStable();
    return fixture;
  }

  it('has no mail links where mail is off', async () => {
    const fixture = await render({ enabled: false });
    expect(text(fixture, 'forgot-password')).toBeUndefined();
    expect(text(fixture, 'sign-in-link')).toBeUndefined();
  });

  it('links to the reset page where mail is on', async () => {
    const fixture = await render({ enabled: true });
    expect(text(fixture, 'forgot-password')).toBe('Forgot password?');
    expect(text(fixture, 'sign-in-link')).toBeUndefined();
  });

  it('offers a sign-in link where the server has them', async () => {
    const fixture = await render({ enabled: true, magicLinks: true });
    expect(text(fixture, 'forgot-password')).toBe('Forgot password?');
    expect(text(fixture, 'sign-in-link')).toBe('Email me a sign-in link');
  });

  it("shows the server's word when sign-in waits for a verified address", async () => {
    const fixture = await render({ enabled: true, requireVerifiedEmail: true });
    for (const [id, value] of [['login-username', 'alice'], ['login-password', 'secret-password']]) {
      const input = fixture.nativeElement.querySelector(`#${id}`) as HTMLInputElement;
      input.value = value;
      input.dispatchEvent(new Event('input'));
    }
    (fixture.nativeElement.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http.expectOne('/api/auth/signin').flush(
      { code: 'email_not_verified', message: 'Verify your email address first: follow the link we mailed you.' },
      { status: 403, statusText: 'Forbidden' },
    );
    await fixture.whenStable();
    expect(text(fixture, 'error')).toBe('Verify your email address first: follow the link we mailed you.');
  });
});
