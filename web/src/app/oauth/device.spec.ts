import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { routes } from '../app.routes';
import { AuthService } from '../core/auth.service';
import { ALICE, setUpHttp, unauthorized } from '../../testing/http-testing';
import { Device, deviceApproved, deviceCodeInvalid, deviceDenied } from './device';

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
const input = (fixture: ComponentFixture<unknown>) => el(fixture, '#device-user-code') as HTMLInputElement;

async function type(fixture: ComponentFixture<unknown>, value: string) {
  input(fixture).value = value;
  input(fixture).dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

function submit(fixture: ComponentFixture<unknown>) {
  (el(fixture, '[data-testid="device-form"]') as HTMLFormElement).dispatchEvent(new Event('submit'));
}

const DEVICE_URL = '/api/oauth/device';
const UNKNOWN = {
  message: 'This code is unknown or has expired.',
  code: 'device_code_unknown',
};

describe('Device', () => {
  let http: HttpTestingController;
  let router: Router;
  let auth: AuthService;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
    auth = TestBed.inject(AuthService);
  });

  afterEach(() => http.verify());

  async function signInAs(user = ALICE) {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush(user);
    await loading;
  }

  /** The page for the query given (`user_code`, `result`). */
  async function open(query: { user_code?: string; result?: string } = {}) {
    const fixture = TestBed.createComponent(Device);
    for (const [name, value] of Object.entries(query)) fixture.componentRef.setInput(name, value);
    await settle(fixture);
    return fixture;
  }

  it('is the route /device, open to anyone, titled "Connect a device"', () => {
    const route = routes.find((r) => r.path === 'device');
    // A function, so that it is said in the page's language; the product's name follows
    // (BrandedTitleStrategy).
    expect((route?.title as () => string)()).toBe('Connect a device');
    expect(route?.canActivate).toBeUndefined();
  });

  it('asks for the code, the field empty, made for typing a code', async () => {
    await signInAs();
    const fixture = await open();
    expect(el(fixture, 'h1')?.textContent?.trim()).toBe('Connect a device');
    expect(el(fixture, 'label[for="device-user-code"]')?.textContent?.trim()).toBe('Enter the code shown on your device');
    const field = input(fixture);
    expect(field.value).toBe('');
    expect(field.getAttribute('autocomplete')).toBe('off');
    expect(field.getAttribute('autocapitalize')).toBe('characters');
    expect(field.getAttribute('spellcheck')).toBe('false');
    expect(field.classList).toContain('font-monospace');
    expect(field.classList).toContain('text-uppercase');
    expect(text(fixture, 'device-continue')).toBe('Continue');
    expect(text(fixture, 'device-username')).toBe('alice');
    expect(router.navigate).not.toHaveBeenCalled();
    http.expectNone(DEVICE_URL);
  });

  it('?user_code= fills the field, in capitals', async () => {
    await signInAs();
    const fixture = await open({ user_code: 'wdjb-mjht' });
    expect(input(fixture).value).toBe('WDJB-MJHT');
  });

  it('Continue posts the code as typed (in capitals) and goes to the consent page with the request', async () => {
    await signInAs();
    const fixture = await open({ user_code: 'WDJB-MJHT' });
    await type(fixture, ' wdjbmjht ');
    submit(fixture);
    const post = http.expectOne(DEVICE_URL);
    expect(post.request.method).toBe('POST');
    expect(post.request.body).toEqual({ userCode: 'WDJBMJHT' });
    expect(post.request.withCredentials).toBe(true);
    expect(post.request.headers.get('X-Token-Delivery')).toBe('cookie');
    await fixture.whenStable();
    expect((el(fixture, '[data-testid="device-continue"]') as HTMLButtonElement).disabled).toBe(true);
    post.flush({ request: 'req_dev-1' });
    await settle(fixture);
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/oauth/consent'], { queryParams: { request: 'req_dev-1' } });
  });

  it('sends nothing without a code', async () => {
    await signInAs();
    const fixture = await open();
    await type(fixture, '   ');
    submit(fixture);
    await settle(fixture);
    http.expectNone(DEVICE_URL);
    expect(input(fixture).classList).toContain('is-invalid');
    expect(input(fixture).getAttribute('aria-invalid')).toBe('true');
  });

  it('an unknown or expired code (404) says so and keeps the form', async () => {
    await signInAs();
    const fixture = await open({ user_code: 'WDJB-MJHT' });
    submit(fixture);
    http.expectOne(DEVICE_URL).flush(UNKNOWN, { status: 404, statusText: 'Not Found' });
    await settle(fixture);
    expect(text(fixture, 'device-error')).toBe(deviceCodeInvalid());
    expect(deviceCodeInvalid()).toBe('That code is not valid or has expired. Check the code on your device.');
    const error = el(fixture, '[data-testid="device-error"]') as HTMLElement;
    expect(error.getAttribute('role')).toBe('alert');
    expect(input(fixture).getAttribute('aria-describedby')).toContain(error.id);
    expect(input(fixture).value).toBe('WDJB-MJHT');
    expect((el(fixture, '[data-testid="device-continue"]') as HTMLButtonElement).disabled).toBe(false);
    expect(router.navigate).not.toHaveBeenCalled();

    // The body may name the code `error` too.
    submit(fixture);
    http.expectOne(DEVICE_URL).flush({ error: 'device_code_unknown', message: 'Unknown code.' }, { status: 404, statusText: 'Not Found' });
    await settle(fixture);
    expect(text(fixture, 'device-error')).toBe(deviceCodeInvalid());
  });

  it("too many tries (429): the server's message, with how long to wait", async () => {
    await signInAs();
    const fixture = await open({ user_code: 'WDJB-MJHT' });
    submit(fixture);
    http.expectOne(DEVICE_URL).flush(
      { message: 'Too many attempts. Try again later.', code: 'too_many_attempts' },
      { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '30' } },
    );
    await settle(fixture);
    expect(text(fixture, 'device-error')).toBe('Too many attempts. Try again later. Please wait 30 seconds.');
    expect(el(fixture, '[data-testid="device-form"]')).not.toBeNull();
  });

  it('a visitor who is not signed in goes to the login page, which brings them back with the code', async () => {
    const fixture = await open({ user_code: 'WDJB-MJHT' });
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: '/device?user_code=WDJB-MJHT' },
    });
    expect(text(fixture, 'device-to-login')).toBe('Taking you to the sign-in page…');
    expect(el(fixture, '[data-testid="device-form"]')).toBeNull();
    http.expectNone(DEVICE_URL);
  });

  it('…and without a code, back to /device', async () => {
    await open();
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], { queryParams: { returnUrl: '/device' } });
  });

  it('a 401 on Continue: the session is over, so login and back with the code', async () => {
    await signInAs();
    const fixture = await open();
    await type(fixture, 'wdjb-mjht');
    submit(fixture);
    http.expectOne(DEVICE_URL).flush({ message: 'Unauthorized!', code: 'unauthenticated' }, unauthorized());
    await settle(fixture);
    expect(auth.signedIn()).toBe(false);
    // Only the page's own way to login (the interceptor leaves this 401 to it).
    expect(router.navigate).toHaveBeenCalledExactlyOnceWith(['/login'], {
      queryParams: { returnUrl: '/device?user_code=WDJB-MJHT', reason: 'ended' },
    });
  });

  it('?result=approved: the device is connected', async () => {
    await signInAs();
    const fixture = await open({ result: 'approved' });
    expect(text(fixture, 'device-approved')).toBe(deviceApproved());
    expect(deviceApproved()).toBe('Your device is connected. You can return to it now.');
    expect(el(fixture, '[data-testid="device-form"]')).toBeNull();
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('?result=denied: the device was not connected', async () => {
    await signInAs();
    const fixture = await open({ result: 'denied' });
    expect(text(fixture, 'device-denied')).toBe(deviceDenied());
    expect(deviceDenied()).toBe('You declined; the device was not connected.');
    expect(el(fixture, '[data-testid="device-form"]')).toBeNull();
  });

  it('a result needs no sign-in to be shown', async () => {
    const fixture = await open({ result: 'approved' });
    expect(text(fixture, 'device-approved')).toBe(deviceApproved());
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('any other result is the form', async () => {
    await signInAs();
    const fixture = await open({ result: 'maybe' });
    expect(el(fixture, '[data-testid="device-form"]')).not.toBeNull();
  });
});
