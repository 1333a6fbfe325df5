import { HttpErrorResponse } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { throwError } from 'rxjs';

import { setUpHttp } from '../../testing/http-testing';
import { Reauthentication } from '../core/reauth';
import { ReauthPrompt } from './reauth-prompt';

describe('ReauthPrompt', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    ({ http, router } = setUpHttp());
  });

  afterEach(() => http.verify());

  /** A prompt whose gate is waiting for the password, as after a 403 reauthentication_required. */
  async function pending() {
    const gate = new Reauthentication();
    const refused = new HttpErrorResponse({
      status: 403,
      error: { code: 'reauthentication_required', message: 'Sign in again, or give your password, to do this.' },
    });
    gate.run('Removing a passkey', () => throwError(() => refused), {
      next: () => undefined,
      error: () => undefined,
    });
    const fixture = TestBed.createComponent(ReauthPrompt);
    fixture.componentRef.setInput('gate', gate);
    await fixture.whenStable();
    return { fixture, gate };
  }

  it('offers an account without a password to sign in again, and brings it back here', async () => {
    const { fixture, gate } = await pending();
    const again = fixture.nativeElement.querySelector('[data-testid="reauth-sign-in-again"]') as HTMLButtonElement;
    expect(again.textContent?.trim()).toBe('sign in again');
    again.click();
    http.expectOne('/api/auth/signout').flush({ message: 'Signed out.' });
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve));
    expect(gate.pending()).toBeNull();
    expect(router.navigate).toHaveBeenCalledWith(['/login'], { queryParams: { returnUrl: router.url } });
  });
});
