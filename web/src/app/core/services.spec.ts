import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Observable, firstValueFrom } from 'rxjs';

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

  it('AdminService manages roles, permissions, groups and their members, rights, service accounts and keys', async () => {
    const admin = TestBed.inject(AdminService);
    const NO_CONTENT = { status: 204, statusText: 'No Content' };
    /** Sends `call`, checks its method, URL, body and cascade parameter, answers `answer`. */
    async function check<T>(call: () => Observable<T>, method: string, url: string, body: unknown, answer: object | null, cascade?: string) {
      const done = firstValueFrom(call(), { defaultValue: undefined });
      const req = http.expectOne((r) => r.url === url && r.method === method);
      expect(req.request.withCredentials).toBe(true);
      if (body !== undefined) expect(req.request.body).toEqual(body);
      expect(req.request.params.get('cascade') ?? undefined).toBe(cascade);
      if (answer === null) req.flush(null, NO_CONTENT);
      else req.flush(answer);
      return done;
    }

    expect(await check(() => admin.roles(), 'GET', '/api/admin/roles', undefined, { items: [{ name: 'user' }] })).toEqual([{ name: 'user' }]);
    await check(() => admin.createRole({ name: 'billing', permissions: [] }), 'POST', '/api/admin/roles', { name: 'billing', permissions: [] }, { name: 'billing' });
    await check(() => admin.updateRole('billing', { permissions: ['a:b'] }), 'PATCH', '/api/admin/roles/billing', { permissions: ['a:b'] }, { name: 'billing' });
    await check(() => admin.removeRole('billing'), 'DELETE', '/api/admin/roles/billing', undefined, null);
    await check(() => admin.removeRole('billing', true), 'DELETE', '/api/admin/roles/billing', undefined, null, 'true');
    expect(await check(() => admin.permissions(), 'GET', '/api/admin/permissions', undefined, { items: [] })).toEqual([]);
    await check(() => admin.createPermission({ name: 'invoices:write' }), 'POST', '/api/admin/permissions', { name: 'invoices:write' }, { name: 'invoices:write' });
    await check(() => admin.removePermission('invoices:write', true), 'DELETE', '/api/admin/permissions/invoices%3Awrite', undefined, null, 'true');
    expect(await check(() => admin.groups(), 'GET', '/api/admin/groups', undefined, { items: [] })).toEqual([]);
    await check(() => admin.createGroup({ name: 'finance', roles: ['billing'] }), 'POST', '/api/admin/groups', { name: 'finance', roles: ['billing'] }, { name: 'finance' });
    await check(() => admin.updateGroup('finance', { description: null }), 'PATCH', '/api/admin/groups/finance', { description: null }, { name: 'finance' });
    await check(() => admin.removeGroup('finance'), 'DELETE', '/api/admin/groups/finance', undefined, null);
    const members = firstValueFrom(admin.members('finance', 2, 20));
    const membersReq = http.expectOne((r) => r.url === '/api/admin/groups/finance/members');
    expect(membersReq.request.params.get('page')).toBe('2');
    expect(membersReq.request.params.get('limit')).toBe('20');
    membersReq.flush({ items: [], page: 2, limit: 20 });
    await members;
    await check(() => admin.addMember('finance', 7), 'PUT', '/api/admin/groups/finance/members/7', null, null);
    await check(() => admin.removeMember('finance', 7), 'DELETE', '/api/admin/groups/finance/members/7', undefined, null);
    await check(() => admin.rights(7), 'GET', '/api/admin/users/7/rights', undefined, { id: 7 });
    await check(() => admin.createServiceAccount({ username: 'bot' }), 'POST', '/api/admin/service-accounts', { username: 'bot' }, { id: 8, username: 'bot' });
    expect(await check(() => admin.apiKeys(8), 'GET', '/api/admin/users/8/api-keys', undefined, { items: [] })).toEqual([]);
    await check(() => admin.createApiKey(8, { name: 'k' }), 'POST', '/api/admin/users/8/api-keys', { name: 'k' }, { id: 1, key: 'pck_x' });
    await check(() => admin.revokeApiKey(8, 1), 'DELETE', '/api/admin/users/8/api-keys/1', undefined, null);

    const account = TestBed.inject(AccountService);
    expect(await check(() => account.apiKeys(), 'GET', '/api/auth/api-keys', undefined, { items: [] })).toEqual([]);
    await check(() => account.createApiKey({ name: 'k', expiresInDays: 30 }), 'POST', '/api/auth/api-keys', { name: 'k', expiresInDays: 30 }, { id: 2 });
    await check(() => account.revokeApiKey(2), 'DELETE', '/api/auth/api-keys/2', undefined, null);
  });
});
