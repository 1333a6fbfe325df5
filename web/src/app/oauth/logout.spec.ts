import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { ExternalNavigation } from '../core/external-navigation';
import { ALICE, setUpHttp } from '../../testing/http-testing';
import { Logout, logoutIncomplete, notSignedIn, signedOut, stillSignedOut } from './logout';

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
const buttons = (fixture: ComponentFixture<unknown>) =>
  Array.from(fixture.nativeElement.querySelectorAll('button') as NodeListOf<HTMLButtonElement>).map((b) => b.textContent?.trim());

async function click(fixture: ComponentFixture<unknown>, testId: string) {
  const button = el(fixture, `[data-testid="${testId}"]`) as HTMLButtonElement;
  expect(button, testId).not.toBeNull();
  button.click();
  await fixture.whenStable();
}

const HINT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI3In0.c2ln';
const RP_URI = 'https://rp.example/bye';
const INPUTS = { id_token_hint: HINT, post_logout_redirect_uri: RP_URI, state: 'xyz' };
const REQUEST_URL = '/api/oauth/logout/request';
const CONFIRM_URL = '/api/oauth/logout/confirm';
const INFO = { clientName: 'Example App', redirectTo: `${RP_URI}?state=xyz` };
const BAD_REQUEST = { status: 400, statusText: 'Bad Request' };
const INVALID = { message: 'The ID token hint is not valid.', code: 'oauth_invalid_request' };

describe('Logout', () => {
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

  /** The page with these query parameters, before the request is answered. */
  async function open(inputs: Record<string, string> = INPUTS) {
    const fixture = TestBed.createComponent(Logout);
    for (const [name, value] of Object.entries(inputs)) fixture.componentRef.setInput(name, value);
    await fixture.whenStable();
    return fixture;
  }

  /** The page with the request answered by `info`. */
  async function ready(info: object = INFO, inputs?: Record<string, string>) {
    const fixture = await open(inputs);
    const get = http.expectOne((r) => r.url === REQUEST_URL);
    get.flush(info);
    await settle(fixture);
    return fixture;
  }

  it('asks the server about the request with exactly the parameters given, no session needed', async () => {
    await signInAs();
    const fixture = await open();
    expect(text(fixture, 'logout-loading')).toBe('Loading the sign-out request…');
    const get = http.expectOne((r) => r.url === REQUEST_URL);
    expect(get.request.method).toBe('GET');
    expect(get.request.withCredentials).toBe(true);
    expect(get.request.params.keys().sort()).toEqual(['id_token_hint', 'post_logout_redirect_uri', 'state']);
    expect(get.request.params.get('id_token_hint')).toBe(HINT);
    expect(get.request.params.get('post_logout_redirect_uri')).toBe(RP_URI);
    expect(get.request.params.get('state')).toBe('xyz');
    get.flush(INFO);
    await settle(fixture);
    expect(el(fixture, '[data-testid="logout-loading"]')).toBeNull();

    // Only the hint: only the hint is sent.
    const other = await open({ id_token_hint: HINT });
    const bare = http.expectOne((r) => r.url === REQUEST_URL);
    expect(bare.request.params.keys()).toEqual(['id_token_hint']);
    bare.flush({ clientName: 'Example App', redirectTo: null });
    await settle(other);
  });

  it('signed in: asks, and Sign out posts the request, forgets the user and follows redirectTo', async () => {
    await signInAs();
    const fixture = await ready();
    expect(text(fixture, 'logout-title')).toBe('Example App asks you to sign out of Portcullis.');
    expect(text(fixture, 'logout-username')).toBe('alice');
    expect(buttons(fixture)).toEqual(['Sign out', 'Stay signed in']);

    await click(fixture, 'logout-sign-out');
    const post = http.expectOne(CONFIRM_URL);
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ idTokenHint: HINT, postLogoutRedirectUri: RP_URI, state: 'xyz' });
    expect(post.request.withCredentials).toBe(true);
    await fixture.whenStable();
    expect((el(fixture, '[data-testid="logout-sign-out"]') as HTMLButtonElement).disabled).toBe(true);
    expect((el(fixture, '[data-testid="logout-stay"]') as HTMLButtonElement).disabled).toBe(true);
    expect(auth.signedIn()).toBe(true);
    expect(assign).not.toHaveBeenCalled();

    post.flush({ message: "You've been signed out!", redirectTo: `${RP_URI}?state=xyz` });
    await settle(fixture);
    expect(auth.signedIn()).toBe(false);
    expect(assign).toHaveBeenCalledExactlyOnceWith(`${RP_URI}?state=xyz`);
    expect(text(fixture, 'logout-leaving')).toBe('Taking you back to Example App…');
    expect(buttons(fixture)).toEqual([]);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('signed in, no redirect asked for: Sign out ends with "You\'ve been signed out."', async () => {
    await signInAs();
    const fixture = await ready({ clientName: 'Example App', redirectTo: null }, { id_token_hint: HINT });
    await click(fixture, 'logout-sign-out');
    const post = http.expectOne(CONFIRM_URL);
    expect(post.request.body).toEqual({ idTokenHint: HINT });
    post.flush({ message: "You've been signed out!", redirectTo: null });
    await settle(fixture);
    expect(text(fixture, 'logout-done')).toBe(signedOut());
    expect(auth.signedIn()).toBe(false);
    expect(assign).not.toHaveBeenCalled();
    expect(buttons(fixture)).toEqual([]);
  });

  it('Stay signed in: nothing is posted, the user stays, home (not the application)', async () => {
    await signInAs();
    const fixture = await ready();
    await click(fixture, 'logout-stay');
    await settle(fixture);
    http.expectNone(CONFIRM_URL);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/']);
    expect(auth.signedIn()).toBe(true);
    expect(assign).not.toHaveBeenCalled();
  });

  it('not signed in: says so, and Continue posts the request and follows redirectTo', async () => {
    const fixture = await ready();
    expect(text(fixture, 'logout-title')).toBe(notSignedIn());
    expect(buttons(fixture)).toEqual(['Continue']);
    expect(el(fixture, '[data-testid="logout-sign-out"]')).toBeNull();

    await click(fixture, 'logout-continue');
    const post = http.expectOne(CONFIRM_URL);
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ idTokenHint: HINT, postLogoutRedirectUri: RP_URI, state: 'xyz' });
    post.flush({ message: "You've been signed out!", redirectTo: `${RP_URI}?state=xyz` });
    await settle(fixture);
    expect(assign).toHaveBeenCalledExactlyOnceWith(`${RP_URI}?state=xyz`);
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('not signed in, no redirect: Continue ends on the page', async () => {
    const fixture = await ready({ clientName: 'Example App', redirectTo: null }, { id_token_hint: HINT });
    await click(fixture, 'logout-continue');
    http.expectOne(CONFIRM_URL).flush({ message: "You've been signed out!", redirectTo: null });
    await settle(fixture);
    expect(text(fixture, 'logout-done')).toBe(stillSignedOut());
    expect(assign).not.toHaveBeenCalled();
  });

  it('a 400 from the request endpoint: the server\'s message, a link home and no buttons', async () => {
    await signInAs();
    const fixture = await open();
    http.expectOne((r) => r.url === REQUEST_URL).flush(INVALID, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'logout-invalid')).toBe('The ID token hint is not valid.');
    expect(buttons(fixture)).toEqual([]);
    expect(el(fixture, '[data-testid="logout-home"]')?.getAttribute('href')).toBe('/home');
    expect(el(fixture, '[data-testid="logout-title"]')).toBeNull();
    http.expectNone(CONFIRM_URL);
    expect(router.navigate).not.toHaveBeenCalled();
    expect(auth.signedIn()).toBe(true);
  });

  it('another error checking the request can be tried again', async () => {
    const fixture = await open();
    http
      .expectOne((r) => r.url === REQUEST_URL)
      .flush({ message: 'The database is unreachable.', code: 'unavailable' }, { status: 503, statusText: 'Service Unavailable' });
    await settle(fixture);
    expect(text(fixture, 'logout-load-error')).toBe('The database is unreachable.');
    await click(fixture, 'logout-retry');
    http.expectOne((r) => r.url === REQUEST_URL).flush(INFO);
    await settle(fixture);
    expect(text(fixture, 'logout-title')).toBe(notSignedIn());
  });

  it('an error on Sign out keeps the question and the session; a 400 there shows the refusal', async () => {
    await signInAs();
    const fixture = await ready();
    await click(fixture, 'logout-sign-out');
    http.expectOne(CONFIRM_URL).flush({ message: 'Something broke.', code: 'internal' }, { status: 500, statusText: 'Internal Server Error' });
    await settle(fixture);
    expect(text(fixture, 'logout-error')).toBe('Something broke.');
    expect((el(fixture, '[data-testid="logout-sign-out"]') as HTMLButtonElement).disabled).toBe(false);
    expect(auth.signedIn()).toBe(true);

    await click(fixture, 'logout-sign-out');
    http.expectOne(CONFIRM_URL).flush(INVALID, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'logout-invalid')).toBe('The ID token hint is not valid.');
    expect(buttons(fixture)).toEqual([]);
    expect(assign).not.toHaveBeenCalled();
  });

  it('without an ID token hint: incomplete, and the server is not asked', async () => {
    const fixture = await open({ post_logout_redirect_uri: RP_URI });
    await settle(fixture);
    http.expectNone((r) => r.url === REQUEST_URL);
    expect(text(fixture, 'logout-incomplete')).toBe(logoutIncomplete());
    expect(buttons(fixture)).toEqual([]);
  });

  it('an answer whose redirectTo is a script is not followed; the sign-out still shows as done', async () => {
    assign.mockRestore();
    await signInAs();
    const fixture = await ready();
    await click(fixture, 'logout-sign-out');
    http.expectOne(CONFIRM_URL).flush({ message: "You've been signed out!", redirectTo: 'javascript:alert(1)' });
    await settle(fixture);
    expect(text(fixture, 'logout-error')).toBe('The server answered with an address this page cannot open.');
    expect(text(fixture, 'logout-done')).toBe(signedOut());
  });
});
