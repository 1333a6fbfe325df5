import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { Router } from '@angular/router';

import { setUpHttp } from '../../testing/http-testing';
import { TwoFactorCard } from './two-factor-card';

const BAD_REQUEST = { status: 400, statusText: 'Bad Request' };
const FORBIDDEN = { status: 403, statusText: 'Forbidden' };
const REAUTH = { message: 'Sign in again, or give your password, to do this.', code: 'reauthentication_required' };
const WRONG = { message: 'Current password is incorrect.', code: 'wrong_password' };

async function settle(fixture: ComponentFixture<unknown>) {
  for (let i = 0; i < 3; i++) {
    await new Promise((done) => setTimeout(done));
    await fixture.whenStable();
  }
}

const el = (fixture: ComponentFixture<unknown>, selector: string) =>
  fixture.nativeElement.querySelector(selector) as HTMLElement | null;
const text = (fixture: ComponentFixture<unknown>, testId: string) =>
  el(fixture, `[data-testid="${testId}"]`)?.textContent?.trim();

async function click(fixture: ComponentFixture<unknown>, testId: string) {
  const button = el(fixture, `[data-testid="${testId}"]`) as HTMLButtonElement;
  expect(button, testId).not.toBeNull();
  button.click();
  await settle(fixture);
}

async function type(fixture: ComponentFixture<unknown>, selector: string, value: string) {
  const input = el(fixture, selector) as HTMLInputElement;
  expect(input, selector).not.toBeNull();
  input.value = value;
  input.dispatchEvent(new Event('input'));
  await fixture.whenStable();
}

describe('TwoFactorCard', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
  });

  afterEach(() => http.verify());

  async function render(status = { totp: true, passkeys: 0, recoveryCodesLeft: 10 }) {
    const fixture = TestBed.createComponent(TwoFactorCard);
    http.expectOne('/api/auth/mfa').flush(status);
    await settle(fixture);
    return fixture;
  }

  it('on reauthentication_required asks for the password and sends the call again with it; a wrong one is said clearly', async () => {
    const fixture = await render();
    expect(text(fixture, 'totp-on')).toBe('On');
    await click(fixture, 'remove-totp');
    await click(fixture, 'confirm-remove-totp');

    const first = http.expectOne('/api/auth/mfa/totp');
    expect(first.request.method).toBe('DELETE');
    expect(first.request.body).toBeNull();
    first.flush(REAUTH, FORBIDDEN);
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')).not.toBeNull();
    expect(text(fixture, 'mfa-card-error')).toBeUndefined();

    await type(fixture, '#mfa-reauth-password', 'not my password');
    await click(fixture, 'reauth-confirm');
    const wrong = http.expectOne('/api/auth/mfa/totp');
    expect(wrong.request.method).toBe('DELETE');
    expect(wrong.request.body).toEqual({ password: 'not my password' });
    wrong.flush(WRONG, FORBIDDEN);
    await settle(fixture);
    expect(text(fixture, 'reauth-error')).toBe('Current password is incorrect.');
    expect(el(fixture, '[data-testid="reauth"]')).not.toBeNull();

    await type(fixture, '#mfa-reauth-password', 'the right one');
    await click(fixture, 'reauth-confirm');
    const right = http.expectOne('/api/auth/mfa/totp');
    expect(right.request.body).toEqual({ password: 'the right one' });
    right.flush({ message: 'TOTP removed.' });
    await settle(fixture);
    http.expectOne('/api/auth/mfa').flush({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    expect(text(fixture, 'mfa-notice')).toBe('TOTP removed.');
    expect(text(fixture, 'totp-off')).toBe('Off');
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('a recent sign-in needs no password: new recovery codes come at once and are shown', async () => {
    const fixture = await render();
    await click(fixture, 'new-recovery-codes');
    const req = http.expectOne('/api/auth/mfa/recovery-codes');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toBeNull();
    const codes = Array.from({ length: 10 }, (_, i) => `code-code-code-co${String(i).padStart(2, '0')}`);
    req.flush({ recoveryCodes: codes });
    await settle(fixture);
    http.expectOne('/api/auth/mfa').flush({ totp: true, passkeys: 0, recoveryCodesLeft: 10 });
    await settle(fixture);
    expect(fixture.nativeElement.querySelectorAll('[data-testid="recovery-code"]').length).toBe(10);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
  });

  it('setting up an app on reauthentication_required asks for the password and starts again with {password}', async () => {
    const fixture = await render({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
    await click(fixture, 'setup-totp');
    const first = http.expectOne('/api/auth/mfa/totp/setup');
    expect(first.request.method).toBe('POST');
    expect(first.request.body).toBeNull();
    first.flush(REAUTH, FORBIDDEN);
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')?.textContent).toContain('Set up an authenticator app');
    expect(text(fixture, 'mfa-card-error')).toBeUndefined();
    expect(el(fixture, '[data-testid="totp-secret"]')).toBeNull();
    expect((el(fixture, '[data-testid="setup-totp"]') as HTMLButtonElement).disabled).toBe(false);

    await type(fixture, '#mfa-reauth-password', 'not my password');
    await click(fixture, 'reauth-confirm');
    const wrong = http.expectOne('/api/auth/mfa/totp/setup');
    expect(wrong.request.body).toEqual({ password: 'not my password' });
    wrong.flush(WRONG, FORBIDDEN);
    await settle(fixture);
    expect(text(fixture, 'reauth-error')).toBe('Current password is incorrect.');
    expect(el(fixture, '[data-testid="totp-secret"]')).toBeNull();

    await type(fixture, '#mfa-reauth-password', 'the right one');
    await click(fixture, 'reauth-confirm');
    const again = http.expectOne('/api/auth/mfa/totp/setup');
    expect(again.request.method).toBe('POST');
    expect(again.request.body).toEqual({ password: 'the right one' });
    again.flush({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portcullis' });
    await settle(fixture);
    expect(el(fixture, '[data-testid="reauth"]')).toBeNull();
    expect(text(fixture, 'totp-secret')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(router.navigate).not.toHaveBeenCalled();
  });

  it('sets up an app: the QR code and key, then a wrong code (no "session ended"), then the codes', async () => {
    const fixture = await render({ totp: false, passkeys: 1, recoveryCodesLeft: 0 });
    await click(fixture, 'setup-totp');
    const setup = http.expectOne('/api/auth/mfa/totp/setup');
    expect(setup.request.body).toBeNull();
    setup.flush({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portcullis' });
    await settle(fixture);
    expect(text(fixture, 'totp-secret')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect((el(fixture, '[data-testid="qr-code"]') as HTMLImageElement).src).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);

    await type(fixture, '#totp-code', '000000');
    (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    const wrong = http.expectOne('/api/auth/mfa/totp/confirm');
    expect(wrong.request.body).toEqual({ code: '000000' });
    wrong.flush({ message: 'The code is not valid.', code: 'mfa_code_invalid' }, BAD_REQUEST);
    await settle(fixture);
    expect(text(fixture, 'totp-error')).toBe('The code is not valid.');
    expect(router.navigate).not.toHaveBeenCalled();

    await type(fixture, '#totp-code', '123456');
    (el(fixture, 'form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    http.expectOne('/api/auth/mfa/totp/confirm').flush({ recoveryCodes: ['abcd-efgh-ijkm-npqr'] });
    await settle(fixture);
    http.expectOne('/api/auth/mfa').flush({ totp: true, passkeys: 1, recoveryCodesLeft: 10 });
    await settle(fixture);
    expect(text(fixture, 'recovery-code')).toBe('abcd-efgh-ijkm-npqr');
    expect(text(fixture, 'download-codes')).toBe('Download');
    expect(text(fixture, 'copy-codes')).toBe('Copy');
  });
});
