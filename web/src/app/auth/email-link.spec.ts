import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { Policy } from '../core/api.models';
import { policyWith, setUpHttp } from '../../testing/http-testing';
import { EmailLink, LinkPurpose } from './email-link';

/** `/forgot-password` and `/sign-in-link`: one form, the link the policy allows. */
describe('EmailLink', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(purpose: LinkPurpose, policy: Policy) {
    const fixture = TestBed.createComponent(EmailLink);
    fixture.componentRef.setInput('purpose', purpose);
    http.expectOne('/api/auth/policy').flush(policy);
    await fixture.whenStable();
    return fixture;
  }

  const el = (fixture: ComponentFixture<EmailLink>, selector: string) =>
    fixture.nativeElement.querySelector(selector) as HTMLElement | null;
  const text = (fixture: ComponentFixture<EmailLink>, testId: string) =>
    el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim();

  async function ask(fixture: ComponentFixture<EmailLink>, email: string) {
    const input = el(fixture, '#link-email') as HTMLInputElement;
    input.value = email;
    input.dispatchEvent(new Event('input'));
    el(fixture, 'form')!.dispatchEvent(new Event('submit'));
    await fixture.whenStable();
  }

  it('asks for a reset link and shows the answer as it comes', async () => {
    const fixture = await render('reset', policyWith({ enabled: true }));
    await ask(fixture, 'alice@example.com');
    const req = http.expectOne('/api/auth/password-reset');
    expect(req.request.body).toEqual({ email: 'alice@example.com' });
    req.flush({ message: 'If an account has this address, a link to reset its password is on its way.' }, { status: 202, statusText: 'Accepted' });
    await fixture.whenStable();
    expect(text(fixture, 'success')).toBe('If an account has this address, a link to reset its password is on its way.');
    expect(el(fixture, 'form')).toBeNull();
  });

  it('checks the address before sending it', async () => {
    const fixture = await render('reset', policyWith({ enabled: true }));
    await ask(fixture, 'not-an-address');
    http.expectNone('/api/auth/password-reset');
    expect(text(fixture, 'email-error')).toBe('Email must be a valid email address.');
  });

  it('shows a refusal with the existing error display (a throttle says how long to wait)', async () => {
    const fixture = await render('reset', policyWith({ enabled: true }));
    await ask(fixture, 'alice@example.com');
    http
      .expectOne('/api/auth/password-reset')
      .flush(
        { code: 'too_many_attempts', message: 'Too many requests.' },
        { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '30' } },
      );
    await fixture.whenStable();
    expect(text(fixture, 'error')).toBe('Too many requests. Please wait 30 seconds.');
  });

  it('says so, with no form, where mail is off', async () => {
    const fixture = await render('reset', policyWith({ enabled: false }));
    expect(text(fixture, 'unavailable')).toMatch(/sends no mail/);
    expect(el(fixture, 'form')).toBeNull();
  });

  it('has no sign-in link form where the server offers none', async () => {
    const fixture = await render('signin', policyWith({ enabled: true, magicLinks: false }));
    expect(text(fixture, 'unavailable')).toMatch(/does not offer sign-in links/);
    expect(el(fixture, 'form')).toBeNull();
  });

  it('asks for a sign-in link where the server offers them', async () => {
    const fixture = await render('signin', policyWith({ enabled: true, magicLinks: true }));
    expect(el(fixture, 'h1')?.textContent).toMatch(/Sign in by email/);
    await ask(fixture, 'alice@example.com');
    const req = http.expectOne('/api/auth/magic-link');
    expect(req.request.body).toEqual({ email: 'alice@example.com' });
    req.flush({ message: 'If an account has this address, a sign-in link is on its way.' }, { status: 202, statusText: 'Accepted' });
    await fixture.whenStable();
    expect(text(fixture, 'success')).toMatch(/sign-in link is on its way/);
  });
});
