import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { AuditLog } from './audit-log';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const ENTRY = {
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
};

describe('AuditLog', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  it('names the OpenID Connect client of the events that have one', async () => {
    const fixture = TestBed.createComponent(AuditLog);
    const get = http.expectOne((r) => r.url === '/api/admin/audit');
    get.flush({ items: [{ ...ENTRY, id: 3, event: 'signin_client', clientId: 'c_wiki' }, ENTRY] });
    await settle(fixture);
    const rows = Array.from(fixture.nativeElement.querySelectorAll('tbody tr') as NodeListOf<HTMLElement>);
    expect(rows.length).toBe(2);
    expect(rows[0].querySelector('[data-testid="audit-client"]')?.textContent?.trim()).toBe('client c_wiki');
    expect(rows[1].querySelector('[data-testid="audit-client"]')).toBeNull();
  });
});
