import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';

import { AuthService } from './auth.service';
import { ALICE, setUpHttp, unauthorized } from '../../testing/http-testing';

describe('AuthService', () => {
  let http: HttpTestingController;
  let router: Router;
  let auth: AuthService;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    auth = TestBed.inject(AuthService);
  });

  afterEach(() => http.verify());

  it('asks /api/auth/me who is signed in, with credentials', async () => {
    const loading = auth.load();
    const req = http.expectOne('/api/auth/me');
    expect(req.request.method).toBe('GET');
    expect(req.request.withCredentials).toBe(true);
    req.flush(ALICE);
    expect(await loading).toEqual(ALICE);
    expect(auth.signedIn()).toBe(true);
    expect(auth.isModerator()).toBe(false);
    expect(auth.isAdmin()).toBe(false);
  });

  it('treats a 401 from /me at start-up as "nobody", without sending anyone to login', async () => {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush({ message: 'No token provided!' }, unauthorized());
    expect(await loading).toBeNull();
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('signs in, never keeps the tokens of the answer, and takes the account from /me', async () => {
    const signingIn = auth.signIn('alice', 'secret-password');
    const signin = http.expectOne('/api/auth/signin');
    expect(signin.request.method).toBe('POST');
    expect(signin.request.body).toEqual({ username: 'alice', password: 'secret-password' });
    expect(signin.request.withCredentials).toBe(true);
    signin.flush({
      ...ALICE,
      accessToken: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
      refreshToken: 'opaque-refresh',
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    await Promise.resolve();
    http.expectOne('/api/auth/me').flush({ ...ALICE, accessToken: 'eyJ-not-kept' });
    await signingIn;
    expect(auth.user()).toEqual(ALICE);
    expect(JSON.stringify(auth.user())).not.toMatch(/eyJ|opaque-refresh|Token/);
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });

  it('a sign-in answered with the MFA challenge returns it, asks /me nothing and signs no one in', async () => {
    const signingIn = auth.signIn('alice', 'secret-password');
    http.expectOne('/api/auth/signin').flush({
      mfaRequired: true,
      mfaToken: 't'.repeat(43),
      methods: ['totp', 'recovery'],
      expiresIn: 300,
      extra: 'not kept',
    });
    expect(await signingIn).toEqual({
      mfaRequired: true,
      mfaToken: 't'.repeat(43),
      methods: ['totp', 'recovery'],
      expiresIn: 300,
      enrolmentRequired: false,
    });
    http.expectNone('/api/auth/me');
    expect(auth.signedIn()).toBe(false);
  });

  it('signs in with a sign-in link the way a password sign-in ends: the account from /me', async () => {
    const signingIn = auth.signInWithLink('link-token');
    const confirm = http.expectOne('/api/auth/magic-link/confirm');
    expect(confirm.request.method).toBe('POST');
    expect(confirm.request.body).toEqual({ token: 'link-token' });
    expect(confirm.request.headers.get('X-Token-Delivery')).toBe('cookie');
    confirm.flush({ id: ALICE.id, username: ALICE.username, email: ALICE.email, roles: ALICE.roles, accessToken: 'eyJ-no' });
    await Promise.resolve();
    http.expectOne('/api/auth/me').flush(ALICE);
    await signingIn;
    expect(auth.user()).toEqual(ALICE);
    expect(JSON.stringify(auth.user())).not.toMatch(/eyJ/);
  });

  it('a dead sign-in link rejects with the server error and does not send anyone away', async () => {
    const signingIn = auth.signInWithLink('used');
    http
      .expectOne('/api/auth/magic-link/confirm')
      .flush({ message: 'This link is invalid or has expired.', code: 'invalid_token' }, { status: 400, statusText: 'Bad Request' });
    await expect(signingIn).rejects.toMatchObject({ status: 400 });
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('a wrong password rejects with the server error and does not send anyone away', async () => {
    const signingIn = auth.signIn('alice', 'wrong');
    http
      .expectOne('/api/auth/signin')
      .flush({ message: 'Invalid username or password!', code: 'invalid_credentials', accessToken: null }, unauthorized());
    await expect(signingIn).rejects.toMatchObject({ status: 401 });
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('signs out on the server and forgets the user, even when the server cannot be reached', async () => {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush({ ...ALICE, roles: ['ROLE_USER', 'ROLE_ADMIN'] });
    await loading;
    expect(auth.isAdmin()).toBe(true);
    expect(auth.isModerator()).toBe(true);

    const signingOut = auth.signOut();
    const req = http.expectOne('/api/auth/signout');
    expect(req.request.method).toBe('POST');
    req.error(new ProgressEvent('error'), { status: 0 });
    await expect(signingOut).rejects.toBeTruthy();
    expect(auth.signedIn()).toBe(false);
  });
});
