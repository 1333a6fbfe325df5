import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { AdminService } from '../core/admin.service';
import { NamedAuditEntry } from './audit-events';
import { AuditLog } from './audit-log';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const ENTRY: NamedAuditEntry = {
  id: 2,
  at: '2026-12-03T10:00:00.000Z',
  event: 'signin',
  outcome: 'ok',
  actorId: 7,
  subjectId: 7,
  username: 'alice',
  ip: '203.0.113.7',
  userAgent: null,
  via: 'api',
  clientId: null,
  actorUsername: 'alice',
  subjectUsername: 'alice',
};

const cells = (row: HTMLElement, testId: string) => row.querySelector(`[data-testid="${testId}"]`)?.textContent?.trim();

describe('AuditLog', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(items: NamedAuditEntry[]) {
    const fixture = TestBed.createComponent(AuditLog);
    await settle(fixture);
    const get = http.expectOne((r) => r.url === '/api/admin/audit');
    expect(get.request.params.get('limit')).toBe('25');
    expect(get.request.params.has('before')).toBe(false);
    get.flush({ items });
    await settle(fixture);
    return fixture;
  }

  const rows = (fixture: ComponentFixture<unknown>) =>
    Array.from(fixture.nativeElement.querySelectorAll('tbody tr[data-testid="audit-entry"]') as NodeListOf<HTMLElement>);

  it('names the OpenID Connect client of the events that have one', async () => {
    const fixture = await render([{ ...ENTRY, id: 3, event: 'signin_client', clientId: 'c_wiki' }, ENTRY]);
    const [first, second] = rows(fixture);
    expect(rows(fixture).length).toBe(2);
    expect(cells(first, 'audit-client')).toBe('client c_wiki');
    expect(first.querySelector('[data-testid="audit-client"]')).not.toBeNull();
    expect(second.querySelector('[data-testid="audit-client"]')).toBeNull();
  });

  it('says each event in words, its code beside it, and its outcome as a badge', async () => {
    const fixture = await render([
      { ...ENTRY, id: 5, event: 'roles_changed', detail: 'roles: user moderator', actorId: 1, actorUsername: 'admin' },
      { ...ENTRY, id: 4, event: 'signin', outcome: 'failed' },
      { ...ENTRY, id: 3, event: 'something_new' },
    ]);
    const [changed, failed, unknown] = rows(fixture);
    expect(cells(changed, 'audit-event')).toBe('Roles changed');
    expect(changed.querySelector('[data-testid="audit-event"]')?.getAttribute('title')).toBe('roles_changed');
    expect(cells(changed, 'audit-event-code')).toBe('roles_changed');
    expect(cells(changed, 'audit-detail')).toBe('roles: user moderator');
    expect(cells(changed, 'audit-outcome')).toBe('OK');
    expect(cells(failed, 'audit-event')).toBe('Signed in');
    expect(cells(failed, 'audit-outcome')).toBe('Failed');
    expect(failed.querySelector('[data-testid="audit-outcome"]')?.classList).toContain('text-bg-danger');
    expect(cells(unknown, 'audit-event')).toBe('Something new');
  });

  it('names actor and subject, falling back to #id and the recorded name once an account is gone', async () => {
    const fixture = await render([
      { ...ENTRY, id: 9, event: 'disabled', actorId: 1, actorUsername: 'admin', subjectId: 7, subjectUsername: 'alice' },
      { ...ENTRY, id: 8, event: 'deleted', actorId: 1, actorUsername: null, subjectId: 12, subjectUsername: null, username: 'bob' },
      { ...ENTRY, id: 7, event: 'deleted', actorId: null, actorUsername: null, subjectId: 13, subjectUsername: null, username: null, via: 'cli' },
      // Without the new fields (a server before them): ids.
      { ...ENTRY, id: 6, event: 'signin', actorId: 4, subjectId: 4, username: null, actorUsername: undefined, subjectUsername: undefined },
      { ...ENTRY, id: 5, event: 'signin', outcome: 'failed', actorId: null, subjectId: null, username: 'mallory', actorUsername: null, subjectUsername: null },
    ]);
    expect(rows(fixture).map((row) => [cells(row, 'audit-subject'), cells(row, 'audit-actor')])).toEqual([
      ['alice', 'admin'],
      ['#12 (bob)', '#1'],
      ['#13', 'command line'],
      ['#4', '#4'],
      ['mallory', ''],
    ]);
  });

  it('loads its first page again after a change made in the console, and older pages on demand', async () => {
    const page = Array.from({ length: 25 }, (_, i) => ({ ...ENTRY, id: 100 - i }));
    const fixture = await render(page);
    expect(rows(fixture).length).toBe(25);

    (fixture.nativeElement.querySelector('[data-testid="audit-older"]') as HTMLButtonElement).click();
    await settle(fixture);
    const older = http.expectOne((r) => r.url === '/api/admin/audit');
    expect(older.request.params.get('before')).toBe('76');
    older.flush({ items: [{ ...ENTRY, id: 75 }] });
    await settle(fixture);
    expect(rows(fixture).length).toBe(26);
    expect(fixture.nativeElement.querySelector('[data-testid="audit-older"]')).toBeNull();

    TestBed.inject(AdminService).noteChange();
    await settle(fixture);
    const again = http.expectOne((r) => r.url === '/api/admin/audit');
    expect(again.request.params.has('before')).toBe(false);
    again.flush({ items: [{ ...ENTRY, id: 101, event: 'disabled', actorUsername: 'admin', subjectUsername: 'alice' }, ...page] });
    await settle(fixture);
    expect(rows(fixture).length).toBe(26);
    expect(cells(rows(fixture)[0], 'audit-event')).toBe('Account disabled');
  });

  it('a change the server accepted through AdminService counts as a change', async () => {
    const admin = TestBed.inject(AdminService);
    const before = admin.changes();
    admin.update(7, { disabled: true }).subscribe();
    http.expectOne('/api/admin/users/7').flush({ id: 7 });
    expect(admin.changes()).toBe(before + 1);
    admin.update(7, { disabled: false }).subscribe({ error: () => undefined });
    http.expectOne('/api/admin/users/7').flush({ message: 'no', code: 'last_admin' }, { status: 409, statusText: 'Conflict' });
    expect(admin.changes()).toBe(before + 1);
  });
});
