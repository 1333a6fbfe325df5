import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { CurrentUser } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { ALICE, policyWith, setUpHttp } from '../../testing/http-testing';
import { VerifyBanner, needsVerification } from './verify-banner';

const UNVERIFIED: CurrentUser = { ...ALICE, emailVerified: false };

describe('needsVerification', () => {
  const on = policyWith({ enabled: true }).mail;
  const off = policyWith({ enabled: false }).mail;

  it('is true only for a signed-in, unverified user where mail is on', () => {
    expect(needsVerification(UNVERIFIED, on)).toBe(true);
    expect(needsVerification(ALICE, on)).toBe(false);
    expect(needsVerification(UNVERIFIED, off)).toBe(false);
    expect(needsVerification(null, on)).toBe(false);
    expect(needsVerification(UNVERIFIED, null)).toBe(false);
  });
});

describe('VerifyBanner', () => {
  let http: HttpTestingController;
  let auth: AuthService;

  beforeEach(() => {
    ({ http } = setUpHttp());
    auth = TestBed.inject(AuthService);
  });

  afterEach(() => http.verify());

  async function signInAs(user: CurrentUser) {
    const loading = auth.load();
    http.expectOne('/api/auth/me').flush(user);
    await loading;
  }

  async function render() {
    const fixture = TestBed.createComponent(VerifyBanner);
    await fixture.whenStable();
    return fixture;
  }

  const banner = (fixture: ComponentFixture<VerifyBanner>) =>
    fixture.nativeElement.querySelector('[data-testid="verify-banner"]') as HTMLElement | null;
  const byTestId = (fixture: ComponentFixture<VerifyBanner>, id: string) =>
    fixture.nativeElement.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;

  it('asks for no policy and shows nothing while nobody is signed in', async () => {
    const fixture = await render();
    http.expectNone('/api/auth/policy');
    expect(banner(fixture)).toBeNull();
  });

  it('asks for no policy and shows nothing for a verified user', async () => {
    await signInAs(ALICE);
    const fixture = await render();
    http.expectNone('/api/auth/policy');
    expect(banner(fixture)).toBeNull();
  });

  it('shows nothing for an unverified user where mail is off', async () => {
    await signInAs(UNVERIFIED);
    const fixture = await render();
    http.expectOne('/api/auth/policy').flush(policyWith({ enabled: false }));
    await fixture.whenStable();
    expect(banner(fixture)).toBeNull();
  });

  it('shows for an unverified user where mail is on, and goes once the account is verified', async () => {
    await signInAs(UNVERIFIED);
    const fixture = await render();
    http.expectOne('/api/auth/policy').flush(policyWith({ enabled: true }));
    await fixture.whenStable();
    expect(banner(fixture)?.textContent).toMatch(/Your email address is not verified\./);
    expect(banner(fixture)?.textContent).toContain('alice@example.com');

    await signInAs(ALICE);
    await fixture.whenStable();
    expect(banner(fixture)).toBeNull();
  });

  it('"Send again" asks for a new link and shows the answer', async () => {
    await signInAs(UNVERIFIED);
    const fixture = await render();
    http.expectOne('/api/auth/policy').flush(policyWith({ enabled: true }));
    await fixture.whenStable();
    byTestId(fixture, 'verify-resend')!.click();
    const req = http.expectOne('/api/auth/verify-email/resend');
    expect(req.request.method).toBe('POST');
    req.flush({ message: 'A new link is on its way.' }, { status: 202, statusText: 'Accepted' });
    await fixture.whenStable();
    expect(byTestId(fixture, 'verify-sent')?.textContent?.trim()).toBe('A new link is on its way.');
  });

  it('"already verified" asks for the account again, which hides the banner', async () => {
    await signInAs(UNVERIFIED);
    const fixture = await render();
    http.expectOne('/api/auth/policy').flush(policyWith({ enabled: true }));
    await fixture.whenStable();
    byTestId(fixture, 'verify-resend')!.click();
    http
      .expectOne('/api/auth/verify-email/resend')
      .flush({ code: 'already_verified', message: 'Your email address is verified already.' }, { status: 409, statusText: 'Conflict' });
    await Promise.resolve();
    http.expectOne('/api/auth/me').flush(ALICE);
    await fixture.whenStable();
    expect(banner(fixture)).toBeNull();
    expect(byTestId(fixture, 'verify-error')).toBeNull();
  });

  it('other refusals show the server message', async () => {
    await signInAs(UNVERIFIED);
    const fixture = await render();
    http.expectOne('/api/auth/policy').flush(policyWith({ enabled: true }));
    await fixture.whenStable();
    byTestId(fixture, 'verify-resend')!.click();
    http
      .expectOne('/api/auth/verify-email/resend')
      .flush({ code: 'too_many_attempts', message: 'Too many requests.' }, { status: 429, statusText: 'Too Many Requests' });
    await fixture.whenStable();
    expect(byTestId(fixture, 'verify-error')?.textContent?.trim()).toBe('Too many requests.');
    expect(banner(fixture)).not.toBeNull();
  });
});
