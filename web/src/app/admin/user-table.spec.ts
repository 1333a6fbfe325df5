import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { UserTable } from './user-table';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const user = (id: number, username: string, extra: object) => ({
  id,
  username,
  email: `${username}@example.com`,
  emailVerified: true,
  roles: ['ROLE_USER'],
  disabled: false,
  createdAt: '2026-01-01T00:00:00Z',
  lastSigninAt: null,
  ...extra,
});

describe('UserTable: second factors', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  it('shows 2FA and passkeys, and resets them after a confirmation', async () => {
    const fixture = TestBed.createComponent(UserTable);
    http.expectOne((r) => r.url === '/api/admin/users').flush({
      items: [user(1, 'alice', { totp: true, passkeys: 2 }), user(2, 'bob', { totp: false, passkeys: 0 })],
      page: 1,
      limit: 10,
      total: 2,
    });
    await settle(fixture);
    const row = (name: string) => fixture.nativeElement.querySelector(`tr[data-username="${name}"]`) as HTMLElement;
    const cell = (name: string, id: string) => row(name).querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
    expect(cell('alice', 'user-totp')).toBe('TOTP');
    expect(cell('alice', 'user-passkeys')).toBe('2');
    expect(cell('bob', 'user-totp')).toBe('off');
    expect(cell('bob', 'user-passkeys')).toBe('0');
    expect(row('bob').querySelector('[data-testid="reset-mfa"]')).toBeNull();

    (row('alice').querySelector('[data-testid="reset-mfa"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectNone('/api/admin/users/1/mfa');
    expect(row('alice').textContent).toContain('Remove every second factor of alice?');
    (row('alice').querySelector('[data-testid="confirm-reset-mfa"]') as HTMLButtonElement).click();
    const req = http.expectOne('/api/admin/users/1/mfa');
    expect(req.request.method).toBe('DELETE');
    req.flush({ message: 'Second factors removed.' });
    await settle(fixture);
    expect(cell('alice', 'user-totp')).toBe('off');
    expect(cell('alice', 'user-passkeys')).toBe('0');
    expect(fixture.nativeElement.querySelector('[data-testid="admin-notice"]').textContent.trim()).toBe('alice: Second factors removed.');
  });
});
