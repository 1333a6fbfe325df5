import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { ExternalNavigation } from '../core/external-navigation';
import { rememberProvider } from '../core/provider-errors';
import { setUpHttp } from '../../testing/http-testing';
import { LinkedSigninsCard } from './linked-signins-card';

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const text = (fixture: ComponentFixture<unknown>, testId: string) =>
  el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim().replace(/\s+/g, ' ');
const texts = (fixture: ComponentFixture<unknown>, testId: string) =>
  Array.from(fixture.nativeElement.querySelectorAll(`[data-testid="${testId}"]`) as NodeListOf<HTMLElement>).map((e) =>
    e.textContent?.trim().replace(/\s+/g, ' '),
  );
const item = (fixture: ComponentFixture<unknown>, provider: string) =>
  el(fixture, `[data-testid="linked-signin"][data-provider="${provider}"]`) as HTMLElement;

async function click(fixture: ComponentFixture<unknown>, selector: string, within?: HTMLElement) {
  const button = ((within ?? fixture.nativeElement) as HTMLElement).querySelector(selector) as HTMLButtonElement;
  expect(button).not.toBeNull();
  button.click();
  await settle(fixture);
}

async function givePassword(fixture: ComponentFixture<unknown>, password: string) {
  const input = el(fixture, '#linked-signins-reauth-password') as HTMLInputElement;
  expect(input).not.toBeNull();
  input.value = password;
  input.dispatchEvent(new Event('input'));
  await click(fixture, '[data-testid="reauth-confirm"]');
}

const FORBIDDEN = { status: 403, statusText: 'Forbidden' };
const REAUTH = { message: 'Sign in again, or give your password, to do this.', code: 'reauthentication_required' };
const WRONG = { message: 'Current password is incorrect.', code: 'wrong_password' };
const LAST = {
  message: "This is the account's only way to sign in: set a password or add a passkey first.",
  code: 'last_signin_method',
};
const ACME_ID = {
  id: 3,
  provider: 'acme',
  providerName: 'Acme SSO',
  email: 'ada@acme.example',
  createdAt: '2026-01-02T03:04:05Z',
  lastUsedAt: '2026-02-03T04:05:06Z',
};
const OLD_ID = { id: 4, provider: 'gone', providerName: null, email: null, createdAt: '2026-01-05T00:00:00Z', lastUsedAt: null };
const ACME = { id: 'acme', kind: 'oidc', displayName: 'Acme SSO', icon: null };
const HUB = { id: 'hub', kind: 'github', displayName: 'GitHub', icon: 'data:image/png;base64,iVBORw0KGgo=' };
const AUTHORIZE = 'https://github.com/login/oauth/authorize?client_id=abc&state=xyz';

describe('LinkedSigninsCard', () => {
  let http: HttpTestingController;
  let router: Router;
  let assign: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    assign = vi.spyOn(TestBed.inject(ExternalNavigation), 'assign').mockReturnValue(true);
    sessionStorage.clear();
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  async function render(items: object[] = [ACME_ID, OLD_ID], providers: object[] = [ACME, HUB]) {
    const fixture = TestBed.createComponent(LinkedSigninsCard);
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Loading linked sign-ins…');
    const list = http.expectOne('/api/auth/identities');
    expect(list.request.method).toBe('GET');
    expect(list.request.withCredentials).toBe(true);
    list.flush({ items });
    http.expectOne('/api/auth/providers').flush({ items: providers });
    await settle(fixture);
    return fixture;
  }

  it('lists the identities: the provider, the email it gave, when it last signed in', async () => {
    const fixture = await render();
    expect(texts(fixture, 'linked-signin-provider')).toEqual(['Acme SSO', 'gone']);
    expect(texts(fixture, 'linked-signin-email')).toEqual(['ada@acme.example']);
    expect(item(fixture, 'acme').textContent).toContain('last used Feb 3, 2026');
    expect(item(fixture, 'gone').textContent).toContain('never used to sign in yet');
  });

  it('offers to link only the enabled providers not linked yet', async () => {
    const fixture = await render();
    expect(texts(fixture, 'link-provider')).toEqual(['Link GitHub']);
    expect(el(fixture, '[data-testid="link-provider"] img')?.getAttribute('src')).toBe(HUB.icon);
  });

  it('says when nothing is linked, and offers every provider', async () => {
    const fixture = await render([]);
    expect(text(fixture, 'linked-signins-empty')).toBe('No sign-ins at other providers are linked.');
    expect(texts(fixture, 'link-provider')).toEqual(['Link Acme SSO', 'Link GitHub']);
  });

  it('offers no link when the server has no providers', async () => {
    const fixture = await render([], []);
    expect(el(fixture, '[data-testid="linkable-providers"]')).toBeNull();
  });

  it('links: POST {returnTo: /account/linked}, asking for the password when the sign-in is old, then the page goes to the provider', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="link-provider"][data-provider="hub"]');
    const first = http.expectOne('/api/auth/providers/hub/link');
    expect(first.request.method).toBe('POST');
    expect(first.request.body).toEqual({ returnTo: '/account/linked' });
    first.flush(REAUTH, FORBIDDEN);
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')?.textContent).toContain('Link GitHub');
    expect(assign).not.toHaveBeenCalled();

    await givePassword(fixture, 'not it');
    const wrong = http.expectOne('/api/auth/providers/hub/link');
    expect(wrong.request.body).toEqual({ returnTo: '/account/linked', password: 'not it' });
    wrong.flush(WRONG, FORBIDDEN);
    await settle(fixture);
    expect(texts(fixture, 'reauth-error')).toEqual(['Current password is incorrect.']);

    await givePassword(fixture, 'the right one');
    const again = http.expectOne('/api/auth/providers/hub/link');
    expect(again.request.body).toEqual({ returnTo: '/account/linked', password: 'the right one' });
    again.flush({ redirectTo: AUTHORIZE });
    await settle(fixture);
    expect(assign).toHaveBeenCalledExactlyOnceWith(AUTHORIZE);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    // Its name is kept for the sentence should the link fail.
    expect(sessionStorage.getItem('portcullis.lastProvider')).toBe('GitHub');
  });

  it('a provider that cannot be reached says so and goes nowhere', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="link-provider"][data-provider="hub"]');
    http
      .expectOne('/api/auth/providers/hub/link')
      .flush(
        { message: 'The identity provider cannot be reached. Try again later.', code: 'provider_unavailable' },
        { status: 502, statusText: 'Bad Gateway' },
      );
    await settle(fixture);
    expect(text(fixture, 'linked-signins-error')).toBe('GitHub: The identity provider cannot be reached. Try again later.');
    expect(assign).not.toHaveBeenCalled();
    expect((el(fixture, '[data-testid="link-provider"]') as HTMLButtonElement).disabled).toBe(false);
  });

  it('unlinks after a confirmation, with the password when the sign-in is old', async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="linked-signin-unlink"]', item(fixture, 'acme'));
    http.expectNone('/api/auth/identities/3');
    await click(fixture, '[data-testid="linked-signin-confirm-unlink"]', item(fixture, 'acme'));
    const first = http.expectOne('/api/auth/identities/3');
    expect(first.request.method).toBe('DELETE');
    expect(first.request.body).toBeNull();
    first.flush(REAUTH, FORBIDDEN);
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')?.textContent).toContain('Unlink Acme SSO');

    await givePassword(fixture, 'the right one');
    const again = http.expectOne('/api/auth/identities/3');
    expect(again.request.method).toBe('DELETE');
    expect(again.request.body).toEqual({ password: 'the right one' });
    again.flush(null, { status: 204, statusText: 'No Content' });
    await settle(fixture);
    expect(texts(fixture, 'linked-signin-provider')).toEqual(['gone']);
    expect(text(fixture, 'linked-signins-notice')).toBe('Acme SSO is unlinked: it no longer signs you in.');
    // Once unlinked, it can be linked again.
    expect(texts(fixture, 'link-provider')).toEqual(['Link Acme SSO', 'Link GitHub']);
  });

  it("the account's last way to sign in stays linked, with the server's words", async () => {
    const fixture = await render();
    await click(fixture, '[data-testid="linked-signin-unlink"]', item(fixture, 'acme'));
    await click(fixture, '[data-testid="linked-signin-confirm-unlink"]', item(fixture, 'acme'));
    http.expectOne('/api/auth/identities/3').flush(LAST, { status: 409, statusText: 'Conflict' });
    await settle(fixture);
    expect(text(fixture, 'linked-signins-error')).toBe(`Acme SSO: ${LAST.message}`);
    expect(texts(fixture, 'linked-signin-provider')).toEqual(['Acme SSO', 'gone']);
  });

  it('a failed link comes back as ?error=…: said in a sentence, once', async () => {
    router.resetConfig([{ path: 'account/linked', children: [] }]);
    await router.navigateByUrl('/account/linked?error=provider_linked_elsewhere');
    rememberProvider(sessionStorage, 'GitHub');
    const fixture = await render();
    expect(text(fixture, 'linked-signins-error')).toBe(
      'That GitHub identity is already linked to another account. Unlink it there first, then try again.',
    );
    expect(sessionStorage.getItem('portcullis.lastProvider')).toBeNull();
    expect(router.navigate).toHaveBeenCalledWith(
      [],
      expect.objectContaining({ queryParams: { error: null }, queryParamsHandling: 'merge', replaceUrl: true }),
    );
  });
});
