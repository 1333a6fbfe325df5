import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { setUpHttp } from '../../testing/http-testing';
import { ConnectedAppsCard } from './connected-apps-card';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const texts = (fixture: ComponentFixture<unknown>, testId: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(`[data-testid="${testId}"]`) as NodeListOf<HTMLElement>).map((e) =>
    e.textContent?.trim().replace(/\s+/g, ' '),
  );
const item = (fixture: ComponentFixture<unknown>, clientId: string) =>
  el(fixture, `[data-testid="connected-app"][data-client-id="${clientId}"]`) as HTMLElement;

const NOTES = { clientId: 'c_notes', name: 'Acme Notes', scopes: ['openid', 'profile'], grantedAt: '2026-02-03T04:05:06Z' };
const WIKI = { clientId: 'c/wiki', name: 'Team Wiki', scopes: ['openid', 'email', 'offline_access'], grantedAt: '2026-02-04T00:00:00Z' };

describe('ConnectedAppsCard', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(items: object[]) {
    const fixture = TestBed.createComponent(ConnectedAppsCard);
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Loading connected apps…');
    const get = http.expectOne('/api/oauth/consents');
    expect(get.request.method).toBe('GET');
    get.flush(items);
    await settle(fixture);
    return fixture;
  }

  it('lists the applications, with what each may know', async () => {
    const fixture = await render([NOTES, WIKI]);
    expect(texts(fixture, 'connected-app-name')).toEqual(['Acme Notes', 'Team Wiki']);
    const scopes = (clientId: string) =>
      Array.from(item(fixture, clientId).querySelectorAll('[data-testid="connected-app-scopes"] li')).map((li) => li.textContent?.trim());
    expect(scopes('c_notes')).toEqual(['Know who you are (your account id)', 'Your username']);
    expect(scopes('c/wiki')).toEqual([
      'Know who you are (your account id)',
      'Your email address',
      'Stay signed in when you are away (a refresh token)',
    ]);
    expect(item(fixture, 'c_notes').textContent).toContain('allowed Feb');
    expect(el(fixture, '[data-testid="connected-apps-empty"]')).toBeNull();
  });

  it('an empty list says no application has access', async () => {
    const fixture = await render([]);
    expect(texts(fixture, 'connected-apps-empty')).toEqual(['No applications have access to your account.']);
    expect(texts(fixture, 'connected-app')).toEqual([]);
  });

  it('revokes after a confirmation that says the app is signed out too, with DELETE', async () => {
    const fixture = await render([NOTES, WIKI]);
    (item(fixture, 'c/wiki').querySelector('[data-testid="connected-app-revoke"]') as HTMLButtonElement).click();
    await settle(fixture);
    http.expectNone((r) => r.method === 'DELETE');
    expect(texts(fixture, 'connected-app-confirm')[0]).toContain(
      'Revoke the access of Team Wiki? It is also signed out of your account',
    );
    (el(fixture, '[data-testid="connected-app-confirm-revoke"]') as HTMLButtonElement).click();
    const del = http.expectOne('/api/oauth/consents/c%2Fwiki');
    expect(del.request.method).toBe('DELETE');
    del.flush(null, { status: 204, statusText: 'No Content' });
    await settle(fixture);
    expect(texts(fixture, 'connected-app-name')).toEqual(['Acme Notes']);
    expect(texts(fixture, 'connected-apps-notice')).toEqual(['Team Wiki no longer has access to your account.']);
  });

  it('a cancelled confirmation revokes nothing', async () => {
    const fixture = await render([NOTES]);
    (el(fixture, '[data-testid="connected-app-revoke"]') as HTMLButtonElement).click();
    await settle(fixture);
    (Array.from(item(fixture, 'c_notes').querySelectorAll('button')).find((b) => b.textContent?.trim() === 'Cancel') as HTMLButtonElement).click();
    await settle(fixture);
    expect(el(fixture, '[data-testid="connected-app-confirm"]')).toBeNull();
    http.expectNone((r) => r.method === 'DELETE');
    expect(texts(fixture, 'connected-app-name')).toEqual(['Acme Notes']);
  });

  it('a failed revoke keeps the app and shows the server message', async () => {
    const fixture = await render([NOTES]);
    (el(fixture, '[data-testid="connected-app-revoke"]') as HTMLButtonElement).click();
    await settle(fixture);
    (el(fixture, '[data-testid="connected-app-confirm-revoke"]') as HTMLButtonElement).click();
    http.expectOne('/api/oauth/consents/c_notes').flush({ message: 'Not found.', code: 'not_found' }, { status: 404, statusText: 'Not Found' });
    await settle(fixture);
    expect(texts(fixture, 'connected-apps-error')).toEqual(['Acme Notes: Not found.']);
    expect(texts(fixture, 'connected-app-name')).toEqual(['Acme Notes']);
  });
});
