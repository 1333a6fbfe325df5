import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';

import { policyWith, setUpHttp } from '../../testing/http-testing';
import { ResetPassword } from './reset-password';

/** The reset link's page: the server's password rules, a repeat that must match, dead links. */
describe('ResetPassword', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    ({ http } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(token: string | undefined, password = { minLength: 12, maxLength: 64 }) {
    const fixture = TestBed.createComponent(ResetPassword);
    fixture.componentRef.setInput('token', token);
    http.expectOne('/api/auth/policy').flush(policyWith({ enabled: true }, password));
    await fixture.whenStable();
    return fixture;
  }

  const el = (fixture: ComponentFixture<ResetPassword>, selector: string) =>
    fixture.nativeElement.querySelector(selector) as HTMLElement | null;
  const text = (fixture: ComponentFixture<ResetPassword>, testId: string) =>
    el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim();

  async function type(fixture: ComponentFixture<ResetPassword>, id: string, value: string) {
    const input = el(fixture, `#${id}`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new Event('blur'));
    await fixture.whenStable();
  }

  async function submit(fixture: ComponentFixture<ResetPassword>) {
    el(fixture, 'form')!.dispatchEvent(new Event('submit'));
    await fixture.whenStable();
  }

  it("checks the new password with the policy's limits, and the repeat against it", async () => {
    const fixture = await render('tok');
    expect(el(fixture, '#reset-new-help')?.textContent).toMatch(/12 to 64 characters/);
    await type(fixture, 'reset-new', 'elevenchars');
    expect(el(fixture, '#reset-new')!.classList).toContain('is-invalid');
    expect(text(fixture, 'password-error')).toBe('Password must be at least 12 characters.');
    await type(fixture, 'reset-new', 'x'.repeat(65));
    expect(text(fixture, 'password-error')).toBe('Password must be at most 64 characters.');
    await type(fixture, 'reset-new', 'a long new password');
    expect(el(fixture, '#reset-new')!.classList).not.toContain('is-invalid');

    await type(fixture, 'reset-confirm', 'a long new passwore');
    expect(el(fixture, '#reset-confirm')!.classList).toContain('is-invalid');
    expect(text(fixture, 'confirm-error')).toBe('The passwords do not match.');
    await type(fixture, 'reset-confirm', 'a long new password');
    expect(el(fixture, '#reset-confirm')!.classList).not.toContain('is-invalid');
  });

  it('sends nothing while the form is invalid, and marks every field', async () => {
    const fixture = await render('tok');
    await submit(fixture);
    http.expectNone('/api/auth/password-reset/confirm');
    expect(el(fixture, '#reset-new')!.classList).toContain('is-invalid');
    expect(text(fixture, 'password-error')).toBe('New password is required.');
    expect(el(fixture, '#reset-confirm')!.classList).toContain('is-invalid');
    expect(text(fixture, 'confirm-error')).toBe('Repeat the new password.');

    await type(fixture, 'reset-new', 'a long new password');
    await type(fixture, 'reset-confirm', 'something else entirely');
    await submit(fixture);
    http.expectNone('/api/auth/password-reset/confirm');
  });

  it("sends the link's token with the new password and shows the answer, with a way to sign in", async () => {
    const fixture = await render('the-token');
    await type(fixture, 'reset-new', 'a long new password');
    await type(fixture, 'reset-confirm', 'a long new password');
    await submit(fixture);
    const req = http.expectOne('/api/auth/password-reset/confirm');
    expect(req.request.body).toEqual({ token: 'the-token', newPassword: 'a long new password' });
    req.flush({ message: 'Your password has been changed. Sign in with the new one.' });
    await fixture.whenStable();
    expect(text(fixture, 'success')).toBe('Your password has been changed. Sign in with the new one.');
    expect(el(fixture, 'a[href="/login"]')).not.toBeNull();
    expect(el(fixture, 'form')).toBeNull();
  });

  it('a dead link says so and offers a new one; the form is gone', async () => {
    const fixture = await render('used');
    await type(fixture, 'reset-new', 'a long new password');
    await type(fixture, 'reset-confirm', 'a long new password');
    await submit(fixture);
    http
      .expectOne('/api/auth/password-reset/confirm')
      .flush({ code: 'invalid_token', message: 'This link is invalid or has expired.' }, { status: 400, statusText: 'Bad Request' });
    await fixture.whenStable();
    expect(text(fixture, 'link-error')).toBe('This link is invalid or has expired.');
    expect(el(fixture, 'a[href="/forgot-password"]')).not.toBeNull();
    expect(el(fixture, 'form')).toBeNull();
  });

  it('a refused password is shown under the form, which stays', async () => {
    const fixture = await render('tok');
    await type(fixture, 'reset-new', 'password1234');
    await type(fixture, 'reset-confirm', 'password1234');
    await submit(fixture);
    http
      .expectOne('/api/auth/password-reset/confirm')
      .flush({ code: 'password_too_common', message: 'This password is too common.' }, { status: 400, statusText: 'Bad Request' });
    await fixture.whenStable();
    expect(text(fixture, 'error')).toBe('This password is too common.');
    expect(el(fixture, 'form')).not.toBeNull();
  });

  it('a link without a token is incomplete', async () => {
    const fixture = await render(undefined);
    expect(text(fixture, 'link-error')).toMatch(/incomplete/);
    expect(el(fixture, 'a[href="/forgot-password"]')).not.toBeNull();
    expect(el(fixture, 'form')).toBeNull();
  });
});
