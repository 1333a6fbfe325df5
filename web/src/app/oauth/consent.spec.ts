import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { ExternalNavigation } from '../core/external-navigation';
import { ALICE, setUpHttp, unauthorized } from '../../testing/http-testing';
import { routes } from '../app.routes';
import { Consent, deviceWarning, requestExpired, requestIncomplete } from './consent';

/** Lets the page's promise chains finish, then renders. */
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
    e.textContent?.trim(),
  );

async function click(fixture: ComponentFixture<unknown>, testId: string) {
  const button = el(fixture, `[data-testid="${testId}"]`) as HTMLButtonElement;
  expect(button).not.toBeNull();
  button.click();
  await fixture.whenStable();
}

const TOKEN = 'req_abc-123';
const REQUEST_URL = `/api/oauth/requests/${TOKEN}`;
/** Where the login page brings the user back to. */
const BACK = `/oauth/consent?request=${TOKEN}&fresh=1`;
const REQUEST = {
  client: { clientId: 'c_acme', name: 'Acme Notes' },
  scopes: ['openid', 'profile', 'email', 'roles', 'groups', 'offline_access'],
  signInRequired: false,
};
const NOT_FOUND = { status: 404, statusText: 'Not Found' };
const UNKNOWN = {
  message: 'This authorization request has expired or was already used.',
  code: 'oauth_request_unknown',
};

describe('Consent', () => {
  let http: HttpTestingController;
  let router: Router;
  let auth: AuthService;
  let assign: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    auth = TestBed.inject(AuthService);
    assign = vi.spyOn(TestBed.inject(ExternalNavigation), 'assign').mockReturnValue(true);
  });

  afterEach(() => http.verify());

  async function signInAs(user = ALICE) {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush(user);
    await loading;
  }

  /** The page for `?request=TOKEN` (and `?fresh=` if given), before the request is answered. */
  async function open(inputs: { request?: string; fresh?: string; ui_locales?: string } = { request: TOKEN }) {
    const fixture = TestBed.createComponent(Consent);
    for (const [name, value] of Object.entries(inputs)) fixture.componentRef.setInput(name, value);
    await fixture.whenStable();
    return fixture;
  }

  /** Signed in as ALICE, with the request answered by `request`. */
  async function ready(request: object = REQUEST, inputs?: { request?: string; fresh?: string }) {
    await signInAs();
    const fixture = await open(inputs);
    http.expectOne(REQUEST_URL).flush(request);
    await settle(fixture);
    return fixture;
  }

  it('says it is loading until the request is known, asking without a session being needed', async () => {
    await signInAs();
    const fixture = await open();
    expect(text(fixture, 'consent-loading')).toBe('Loading the sign-in request…');
    const get = http.expectOne(REQUEST_URL);
    expect(get.request.method).toBe('GET');
    expect(get.request.withCredentials).toBe(true);
    get.flush(REQUEST);
    await settle(fixture);
    expect(el(fixture, '[data-testid="consent-loading"]')).toBeNull();
    expect(text(fixture, 'consent-title')).toBe('Acme Notes wants to use your Portcullis account');
  });

  it("shows the application's own logo when it has one, and none when it has not", async () => {
    let fixture = await ready();
    expect(el(fixture, '[data-testid="client-logo"]')).toBeNull();
    fixture.destroy();
    const logoUrl = '/api/branding/clients/c_acme/logo?v=7';
    fixture = await ready({ ...REQUEST, client: { ...REQUEST.client, logoUrl } });
    expect(el(fixture, '[data-testid="client-logo"]')?.getAttribute('src')).toBe(logoUrl);
  });

  it('shows the application, the account and each scope explained, with Allow and Deny', async () => {
    const fixture = await ready();
    expect(text(fixture, 'consent-title')).toBe('Acme Notes wants to use your Portcullis account');
    expect(text(fixture, 'consent-username')).toBe('alice');
    expect(texts(fixture, 'consent-scope-label')).toEqual([
      'Know who you are (your account id)',
      'Your username',
      'Your email address',
      'Your roles, and what they allow',
      'The groups you are in',
      'Stay signed in when you are away (a refresh token)',
    ]);
    expect(text(fixture, 'consent-allow')).toBe('Allow');
    expect(text(fixture, 'consent-deny')).toBe('Deny');
    expect(text(fixture, 'consent-client-id')).toBe('c_acme');
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it("shows, for each scope it can, what the application will receive: the user's own values", async () => {
    await signInAs({
      ...ALICE,
      emailVerified: false,
      roles: ['ROLE_USER', 'ROLE_BILLING'],
      groups: ['finance'],
      permissions: ['invoices:read'],
    });
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush(REQUEST);
    await settle(fixture);
    const value = (scope: string) =>
      el(fixture, `[data-scope="${scope}"] [data-testid="consent-scope-value"]`)?.textContent?.trim().replace(/\s+/g, ' ');
    expect(value('profile')).toBe('alice');
    expect(value('email')).toContain('alice@example.com');
    expect(text(fixture, 'consent-email-status')).toBe('not verified');
    expect(texts(fixture, 'consent-role')).toEqual(['User', 'Billing']);
    expect(value('roles')).toBe('User, Billing which allow: invoices:read');
    expect(value('roles')).not.toContain('ROLE_');
    expect(value('groups')).toBe('finance');
    // What it cannot resolve keeps its description alone.
    expect(value('openid')).toBeUndefined();
    expect(value('offline_access')).toBeUndefined();
  });

  it('an unknown scope is shown by its name', async () => {
    const fixture = await ready({ ...REQUEST, scopes: ['openid', 'calendar'] });
    expect(texts(fixture, 'consent-scope-label')).toEqual(['Know who you are (your account id)', 'calendar']);
  });

  it('an expired or used request (404 oauth_request_unknown) says so, and offers nothing to allow', async () => {
    await signInAs();
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush(UNKNOWN, NOT_FOUND);
    await settle(fixture);
    expect(text(fixture, 'consent-expired')).toBe(requestExpired());
    expect(requestExpired()).toBe(
      'This sign-in request has expired or was already used. Go back to the application and try again.',
    );
    expect(el(fixture, '[data-testid="consent-allow"]')).toBeNull();
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('a request the signed-out visitor cannot use is said to be expired too, before any login', async () => {
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush(UNKNOWN, NOT_FOUND);
    await settle(fixture);
    expect(text(fixture, 'consent-expired')).toBe(requestExpired());
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('without ?request= says the request is incomplete and asks nothing', async () => {
    await signInAs();
    const fixture = await open({});
    await settle(fixture);
    expect(text(fixture, 'consent-incomplete')).toBe(requestIncomplete());
    http.expectNone((r) => r.url.startsWith('/api/oauth/'));
  });

  it('another failure shows the server message and can be tried again', async () => {
    await signInAs();
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush({ message: 'The server is overloaded.', code: 'overloaded' }, { status: 503, statusText: 'Service Unavailable' });
    await settle(fixture);
    expect(text(fixture, 'consent-load-error')).toBe('The server is overloaded.');
    (el(fixture, 'button') as HTMLButtonElement).click();
    http.expectOne(REQUEST_URL).flush(REQUEST);
    await settle(fixture);
    expect(text(fixture, 'consent-title')).toBe('Acme Notes wants to use your Portcullis account');
  });

  it("keeps the client's ui_locales on the way through the login page", async () => {
    const fixture = await open({ request: TOKEN, ui_locales: 'fr es' });
    http.expectOne(REQUEST_URL).flush(REQUEST);
    await settle(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: `${BACK}&ui_locales=fr%20es` },
    });
  });

  it('a signed-out visitor goes to the login page, which brings them back here', async () => {
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush(REQUEST);
    await settle(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], { queryParams: { returnUrl: BACK } });
    expect(text(fixture, 'consent-to-login')).toBe('Taking you to the sign-in page…');
    expect(el(fixture, '[data-testid="consent-allow"]')).toBeNull();
    http.expectNone('/api/auth/signout');
  });

  it('signInRequired: a signed-in user is signed out first, then sent to login and back', async () => {
    await signInAs();
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush({ ...REQUEST, signInRequired: true });
    await settle(fixture);
    const signout = http.expectOne('/api/auth/signout');
    expect(signout.request.method).toBe('POST');
    expect(router.navigate).not.toHaveBeenCalled();
    signout.flush({ message: 'You have been signed out!' });
    await settle(fixture);
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: BACK, reason: 'reauth' },
    });
    expect(el(fixture, '[data-testid="consent-allow"]')).toBeNull();
  });

  it('signInRequired, on the way back from that sign-in (fresh=1): the consent, no second sign-out', async () => {
    const fixture = await ready({ ...REQUEST, signInRequired: true }, { request: TOKEN, fresh: '1' });
    http.expectNone('/api/auth/signout');
    expect(router.navigate).not.toHaveBeenCalled();
    expect(text(fixture, 'consent-title')).toBe('Acme Notes wants to use your Portcullis account');
  });

  it('signInRequired for a signed-out visitor: straight to login (nothing to sign out)', async () => {
    const fixture = await open();
    http.expectOne(REQUEST_URL).flush({ ...REQUEST, signInRequired: true });
    await settle(fixture);
    http.expectNone('/api/auth/signout');
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], { queryParams: { returnUrl: BACK } });
  });

  it('Allow posts {approve: true} and goes to the redirectTo of the answer', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    const post = http.expectOne(REQUEST_URL);
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ approve: true });
    expect(post.request.withCredentials).toBe(true);
    await fixture.whenStable();
    expect((el(fixture, '[data-testid="consent-allow"]') as HTMLButtonElement).disabled).toBe(true);
    expect((el(fixture, '[data-testid="consent-deny"]') as HTMLButtonElement).disabled).toBe(true);
    expect(assign).not.toHaveBeenCalled();
    post.flush({ redirectTo: 'http://127.0.0.1:9000/cb?code=abc&state=xyz' });
    await settle(fixture);
    expect(assign).toHaveBeenCalledExactlyOnceWith('http://127.0.0.1:9000/cb?code=abc&state=xyz');
    expect(text(fixture, 'consent-leaving')).toBe('Taking you back to Acme Notes…');
    expect(el(fixture, '[data-testid="consent-allow"]')).toBeNull();
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('alreadyAllowed: continues at once with {approve: true}, without asking again', async () => {
    await ready({ ...REQUEST, alreadyAllowed: true });
    const post = http.expectOne(REQUEST_URL);
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ approve: true });
    post.flush({ redirectTo: 'http://127.0.0.1:9000/cb?code=abc&state=xyz' });
    await new Promise((done) => setTimeout(done));
    expect(assign).toHaveBeenCalledExactlyOnceWith('http://127.0.0.1:9000/cb?code=abc&state=xyz');
  });

  it('Deny posts {approve: false} and goes where the answer says (the application, with an error)', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-deny');
    const post = http.expectOne(REQUEST_URL);
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ approve: false });
    post.flush({ redirectTo: 'https://notes.example/cb?error=access_denied&state=xyz' });
    await settle(fixture);
    expect(assign).toHaveBeenCalledExactlyOnceWith('https://notes.example/cb?error=access_denied&state=xyz');
  });

  it('a 401 on Allow: the session is over, so login and back (and not the plain "session ended")', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    http.expectOne(REQUEST_URL).flush({ message: 'Unauthorized!', code: 'unauthenticated' }, unauthorized());
    await settle(fixture);
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: BACK, reason: 'ended' },
    });
    expect(assign).not.toHaveBeenCalled();
  });

  it('a 403 reauthentication_required on Allow: sign out, login, back', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    http
      .expectOne(REQUEST_URL)
      .flush({ message: 'Sign in again to do this.', code: 'reauthentication_required' }, { status: 403, statusText: 'Forbidden' });
    await settle(fixture);
    expect(router.navigate).not.toHaveBeenCalled();
    http.expectOne('/api/auth/signout').flush({ message: 'You have been signed out!' });
    await settle(fixture);
    expect(auth.signedIn()).toBe(false);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: BACK, reason: 'reauth' },
    });
    expect(assign).not.toHaveBeenCalled();
  });

  it('a 404 on Allow (expired meanwhile) shows the expired message', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    http.expectOne(REQUEST_URL).flush(UNKNOWN, NOT_FOUND);
    await settle(fixture);
    expect(text(fixture, 'consent-expired')).toBe(requestExpired());
    expect(assign).not.toHaveBeenCalled();
  });

  it('another error on Allow shows the message and lets the user try again', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    http.expectOne(REQUEST_URL).flush({ message: 'Something broke.', code: 'internal' }, { status: 500, statusText: 'Internal Server Error' });
    await settle(fixture);
    expect(text(fixture, 'consent-error')).toBe('Something broke.');
    expect((el(fixture, '[data-testid="consent-allow"]') as HTMLButtonElement).disabled).toBe(false);
    expect(assign).not.toHaveBeenCalled();
  });

  it('an answer whose redirectTo is a script is not followed', async () => {
    assign.mockRestore();
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    http.expectOne(REQUEST_URL).flush({ redirectTo: 'javascript:alert(1)' });
    await settle(fixture);
    expect(text(fixture, 'consent-error')).toBe('The server answered with an address this page cannot open.');
  });

  it('"Not you?" signs out and goes to login, then back', async () => {
    const fixture = await ready();
    await click(fixture, 'consent-switch');
    http.expectOne('/api/auth/signout').flush({ message: 'You have been signed out!' });
    await settle(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: BACK, reason: 'signedout' },
    });
  });
  describe('a request from a device (RFC 8628)', () => {
    const DEVICE = { ...REQUEST, device: true };

    beforeEach(() => {
      // The app's routes, so that the page knows /device is one of its own.
      router.resetConfig(routes);
    });

    it('shows the warning above the question', async () => {
      const fixture = await ready(DEVICE);
      expect(text(fixture, 'consent-device-warning')).toBe(deviceWarning());
      expect(deviceWarning()).toBe(
        'A device is asking to sign in as you. Only continue if you started this yourself on a device you have in front of you, and the code matches.',
      );
      expect(el(fixture, '[data-testid="consent-device-warning"]')?.getAttribute('role')).toBe('alert');
      expect(text(fixture, 'consent-allow')).toBe('Allow');
      expect(text(fixture, 'consent-deny')).toBe('Deny');
    });

    it('no warning for a request that is not from a device', async () => {
      const fixture = await ready({ ...REQUEST, device: false });
      expect(el(fixture, '[data-testid="consent-device-warning"]')).toBeNull();
    });

    it('alreadyAllowed: still asks, never answering by itself', async () => {
      const fixture = await ready({ ...DEVICE, alreadyAllowed: true });
      http.expectNone((r) => r.method === 'POST');
      expect(text(fixture, 'consent-device-warning')).toBe(deviceWarning());
      expect((el(fixture, '[data-testid="consent-allow"]') as HTMLButtonElement).disabled).toBe(false);
      expect(assign).not.toHaveBeenCalled();
    });

    it("Allow: the answer's /device?result=approved is a page of this app, opened by the router", async () => {
      const navigateByUrl = vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
      const fixture = await ready({ ...DEVICE, alreadyAllowed: true });
      await click(fixture, 'consent-allow');
      const post = http.expectOne(REQUEST_URL);
      expect(post.request.body).toEqual({ approve: true });
      post.flush({ redirectTo: '/device?result=approved' });
      await settle(fixture);
      expect(navigateByUrl).toHaveBeenCalledExactlyOnceWith('/device?result=approved');
      expect(assign).not.toHaveBeenCalled();
      expect(el(fixture, '[data-testid="consent-error"]')).toBeNull();
    });

    it('Deny: /device?result=denied, by the router too', async () => {
      const navigateByUrl = vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
      const fixture = await ready(DEVICE);
      await click(fixture, 'consent-deny');
      const post = http.expectOne(REQUEST_URL);
      expect(post.request.body).toEqual({ approve: false });
      post.flush({ redirectTo: '/device?result=denied' });
      await settle(fixture);
      expect(navigateByUrl).toHaveBeenCalledExactlyOnceWith('/device?result=denied');
      expect(assign).not.toHaveBeenCalled();
    });
  });

  it('a path of this host the router has no page for is a full navigation, as before', async () => {
    const navigateByUrl = vi.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
    router.resetConfig(routes);
    const fixture = await ready();
    await click(fixture, 'consent-allow');
    http.expectOne(REQUEST_URL).flush({ redirectTo: '/app/cb?code=abc' });
    await settle(fixture);
    expect(assign).toHaveBeenCalledExactlyOnceWith('/app/cb?code=abc');
    expect(navigateByUrl).not.toHaveBeenCalled();
  });
});
