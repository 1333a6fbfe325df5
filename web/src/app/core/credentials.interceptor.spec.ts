import { HttpClient, HttpContext } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';

import { AuthService, EXPECTS_401 } from './auth.service';
import { ALICE, setUpHttp, unauthorized } from '../../testing/http-testing';

describe('credentialsInterceptor', () => {
  let http: HttpTestingController;
  let router: Router;
  let client: HttpClient;
  let auth: AuthService;

  beforeEach(async () => {
    ({ http, router } = setUpHttp());
    client = TestBed.inject(HttpClient);
    auth = TestBed.inject(AuthService);
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush(ALICE);
    await loading;
  });

  afterEach(() => http.verify());

  it('sends the cookies with every request and adds no token header', async () => {
    const call = firstValueFrom(client.get('/api/test/user', { responseType: 'text' }));
    const req = http.expectOne('/api/test/user');
    expect(req.request.withCredentials).toBe(true);
    expect(req.request.headers.has('Authorization')).toBe(false);
    expect(req.request.headers.has('x-access-token')).toBe(false);
    expect(req.request.headers.get('X-Token-Delivery')).toBe('cookie');
    req.flush('User Content.');
    expect(await call).toBe('User Content.');
  });

  it('on a 401 clears the user and sends them to login with "session ended"', async () => {
    const call = firstValueFrom(client.get('/api/auth/sessions'));
    http.expectOne('/api/auth/sessions').flush({ message: 'Unauthorized!', code: 'invalid_token' }, unauthorized());
    await expect(call).rejects.toMatchObject({ status: 401 });
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).toHaveBeenCalledWith(['/login'], { queryParams: { reason: 'ended' } });
  });

  it('leaves a 401 that the caller expects (the sign-in form) alone', async () => {
    const call = firstValueFrom(
      client.post('/api/auth/signin', {}, { context: new HttpContext().set(EXPECTS_401, true) }),
    );
    http.expectOne('/api/auth/signin').flush({ message: 'Invalid username or password!' }, unauthorized());
    await expect(call).rejects.toMatchObject({ status: 401 });
    expect(auth.signedIn()).toBe(true);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('leaves a 403 (signed in, but not allowed) alone', async () => {
    const call = firstValueFrom(client.get('/api/test/admin', { responseType: 'text' }));
    http.expectOne('/api/test/admin').flush('{"message":"Require Admin Role!"}', { status: 403, statusText: 'Forbidden' });
    await expect(call).rejects.toMatchObject({ status: 403 });
    expect(auth.signedIn()).toBe(true);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('never refreshes by itself: a 401 causes no further request', async () => {
    const call = firstValueFrom(client.get('/api/test/user', { responseType: 'text' }));
    http.expectOne('/api/test/user').flush('{"message":"Unauthorized! Access Token was expired!"}', unauthorized());
    await expect(call).rejects.toBeTruthy();
    http.expectNone('/api/auth/refreshtoken');
  });
});
