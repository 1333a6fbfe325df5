import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';

import { AccountService } from './account.service';
import { AdminService } from './admin.service';
import { ContentService } from './content.service';
import { RecoveryService } from './recovery.service';
import { policyWith, setUpHttp } from '../../testing/http-testing';

describe('API services', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  it('ContentService fetches a board as text', async () => {
    const board = firstValueFrom(TestBed.inject(ContentService).board('mod'));
    const req = http.expectOne('/api/test/mod');
    expect(req.request.responseType).toBe('text');
    req.flush('Moderator Content.');
    expect(await board).toBe('Moderator Content.');
  });

  it('AccountService asks for the policy once and shares it', async () => {
    const account = TestBed.inject(AccountService);
    const first = firstValueFrom(account.policy());
    const policy = policyWith();
    http.expectOne('/api/auth/policy').flush(policy);
    expect(await first).toEqual(policy);
    expect(await firstValueFrom(account.policy())).toEqual(policy);
    http.expectNone('/api/auth/policy');
  });

  it('AccountService signs up, lists and ends sessions, signs out everywhere, changes the password', async () => {
    const account = TestBed.inject(AccountService);

    const signup = firstValueFrom(account.signUp('bob', 'bob@example.com', 'long-password'));
    const signupReq = http.expectOne('/api/auth/signup');
    expect(signupReq.request.body).toEqual({ username: 'bob', email: 'bob@example.com', password: 'long-password' });
    signupReq.flush({ message: 'User registered successfully!', code: 'created' }, { status: 201, statusText: 'Created' });
    expect((await signup).message).toBe('User registered successfully!');

    const sessions = firstValueFrom(account.sessions());
    http.expectOne('/api/auth/sessions').flush({ items: [{ id: 'abc', current: true }] });
    expect(await sessions).toEqual([{ id: 'abc', current: true }]);

    const end = firstValueFrom(account.endSession('a/b'), { defaultValue: undefined });
    const endReq = http.expectOne('/api/auth/sessions/a%2Fb');
    expect(endReq.request.method).toBe('DELETE');
    endReq.flush(null, { status: 204, statusText: 'No Content' });
    await end;

    const all = firstValueFrom(account.signOutEverywhere());
    const allReq = http.expectOne('/api/auth/signout-all');
    expect(allReq.request.method).toBe('POST');
    allReq.flush({ message: 'ok' });
    await all;

    const change = firstValueFrom(account.changePassword('old-password', 'new-password'));
    const changeReq = http.expectOne('/api/auth/password');
    expect(changeReq.request.body).toEqual({ currentPassword: 'old-password', newPassword: 'new-password' });
    changeReq.flush({ message: 'Password changed.' });
    await change;
  });

  it('AccountService changes the address', async () => {
    const change = firstValueFrom(TestBed.inject(AccountService).changeEmail('pw', 'new@example.org'));
    const req = http.expectOne('/api/auth/email');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual({ currentPassword: 'pw', newEmail: 'new@example.org' });
    req.flush({ message: 'mailed' }, { status: 202, statusText: 'Accepted' });
    expect((await change).message).toBe('mailed');
  });

  it('RecoveryService asks for links, resets, verifies and asks for a verification link again', async () => {
    const recovery = TestBed.inject(RecoveryService);
    const calls: [string, () => Promise<unknown>, unknown][] = [
      ['/api/auth/password-reset', () => firstValueFrom(recovery.requestReset('a@example.com')), { email: 'a@example.com' }],
      [
        '/api/auth/password-reset/confirm',
        () => firstValueFrom(recovery.confirmReset('tok', 'new-password')),
        { token: 'tok', newPassword: 'new-password' },
      ],
      ['/api/auth/magic-link', () => firstValueFrom(recovery.requestSignInLink('a@example.com')), { email: 'a@example.com' }],
      ['/api/auth/verify-email', () => firstValueFrom(recovery.verifyEmail('tok')), { token: 'tok' }],
      ['/api/auth/verify-email/resend', () => firstValueFrom(recovery.resendVerification()), null],
    ];
    for (const [url, call, body] of calls) {
      const answer = call();
      const req = http.expectOne(url);
      expect(req.request.method).toBe('POST');
      expect(req.request.body).toEqual(body);
      expect(req.request.withCredentials).toBe(true);
      req.flush({ message: `answer of ${url}` });
      expect(await answer).toEqual({ message: `answer of ${url}` });
    }
  });

  it('AdminService pages and searches users, patches, deletes and reads the audit log', async () => {
    const admin = TestBed.inject(AdminService);

    const users = firstValueFrom(admin.users('  Ali ', 2, 10));
    const usersReq = http.expectOne((r) => r.url === '/api/admin/users');
    expect(usersReq.request.params.get('query')).toBe('Ali');
    expect(usersReq.request.params.get('page')).toBe('2');
    expect(usersReq.request.params.get('limit')).toBe('10');
    usersReq.flush({ items: [], total: 0, page: 2, limit: 10 });
    expect((await users).page).toBe(2);

    const noQuery = firstValueFrom(admin.users('', 1, 10));
    const noQueryReq = http.expectOne((r) => r.url === '/api/admin/users');
    expect(noQueryReq.request.params.has('query')).toBe(false);
    noQueryReq.flush({ items: [], total: 0, page: 1, limit: 10 });
    await noQuery;

    const patch = firstValueFrom(admin.update(5, { roles: ['user', 'moderator'] }));
    const patchReq = http.expectOne('/api/admin/users/5');
    expect(patchReq.request.method).toBe('PATCH');
    expect(patchReq.request.body).toEqual({ roles: ['user', 'moderator'] });
    patchReq.flush({ id: 5 });
    await patch;

    const del = firstValueFrom(admin.remove(5), { defaultValue: undefined });
    const delReq = http.expectOne('/api/admin/users/5');
    expect(delReq.request.method).toBe('DELETE');
    delReq.flush(null, { status: 204, statusText: 'No Content' });
    await del;

    const audit = firstValueFrom(admin.audit(25, 100));
    const auditReq = http.expectOne((r) => r.url === '/api/admin/audit');
    expect(auditReq.request.params.get('limit')).toBe('25');
    expect(auditReq.request.params.get('before')).toBe('100');
    auditReq.flush({ items: [{ id: 99, event: 'signin' }] });
    expect(await audit).toEqual([{ id: 99, event: 'signin' }]);
  });
});
