import { HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';

import { AuthService } from '../core/auth.service';
import { SESSION_ENDED } from '../core/credentials.interceptor';
import { errorCode, errorMessage } from '../core/errors';
import { DEVICE_CODE_UNKNOWN, OAuthService } from '../core/oauth.service';

export function deviceCodeInvalid(): string {
  return $localize`:@@oauth.device.codeInvalid:That code is not valid or has expired. Check the code on your device.`;
}
export function deviceApproved(): string {
  return $localize`:@@oauth.device.approved:Your device is connected. You can return to it now.`;
}
export function deviceDenied(): string {
  return $localize`:@@oauth.device.denied:You declined; the device was not connected.`;
}

/**
 * `/device` (RFC 8628's verification page, `?user_code=` when the device showed a link or a QR
 * code): the signed-in user types the code their device shows, and the server answers with the
 * device's sign-in request, which the consent page asks about (warning that a device asks).
 * The consent page's answer brings the browser back here with `?result=approved` or
 * `?result=denied`, which the page says in words.
 *
 * Open to anyone, like the consent page: a visitor who is not signed in goes to the login
 * page, which brings them back with the code.
 */
@Component({
  selector: 'app-device',
  imports: [ReactiveFormsModule, RouterLink],
  templateUrl: './device.html',
})
export class Device implements OnInit {
  protected readonly auth = inject(AuthService);
  private readonly oauth = inject(OAuthService);
  private readonly router = inject(Router);

  /** `?user_code=`: the code, when the device's link carried it. */
  readonly userCode = input<string | undefined>(undefined, { alias: 'user_code' });
  /** `?result=`: where the consent page sends the browser after the decision. */
  readonly result = input<string>();

  /** The decision made on the consent page, if that is what brought the browser here. */
  protected readonly outcome = computed(() => {
    const result = this.result();
    return result === 'approved' || result === 'denied' ? result : null;
  });
  /** On the way to the login page (no form meanwhile). */
  protected readonly toLoginPage = signal(false);
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  protected readonly APPROVED = deviceApproved();
  protected readonly DENIED = deviceDenied();
  /** The code field's description: its help, and the error once there is one. */
  protected readonly describedBy = computed(() =>
    this.error() ? 'device-user-code-help device-error' : 'device-user-code-help',
  );

  protected readonly form = inject(NonNullableFormBuilder).group({
    userCode: ['', [Validators.required, Validators.pattern(/\S/)]],
  });

  ngOnInit(): void {
    if (this.outcome() !== null) return;
    this.form.controls.userCode.setValue(normalise(this.userCode() ?? ''));
    if (!this.auth.signedIn()) {
      void this.toLogin(this.userCode());
    }
  }

  protected showErrors(): boolean {
    const control = this.form.controls.userCode;
    return control.invalid && (control.dirty || control.touched);
  }

  protected async submit(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.submitting()) return;
    const userCode = normalise(this.form.controls.userCode.value);
    this.submitting.set(true);
    this.error.set('');
    try {
      const { request } = await firstValueFrom(this.oauth.verifyDevice(userCode));
      await this.router.navigate(['/oauth/consent'], { queryParams: { request } });
    } catch (e) {
      if (e instanceof HttpErrorResponse && e.status === 401) {
        this.auth.clear();
        await this.toLogin(userCode, SESSION_ENDED);
      } else if (isUnknownCode(e)) {
        this.error.set(deviceCodeInvalid());
      } else {
        // A 429 (too many tries) says how long to wait, from Retry-After.
        this.error.set(errorMessage(e));
      }
    } finally {
      this.submitting.set(false);
    }
  }

  /** To the login page, which brings the user back here (with the code, if there is one). */
  private async toLogin(userCode: string | undefined, reason?: string): Promise<void> {
    this.toLoginPage.set(true);
    const back = this.router.serializeUrl(
      this.router.createUrlTree(['/device'], { queryParams: userCode ? { user_code: userCode } : {} }),
    );
    await this.router.navigate(['/login'], {
      queryParams: reason ? { returnUrl: back, reason } : { returnUrl: back },
    });
  }
}

/**
 * The code as sent: upper case (the codes are shown in capitals; phones capitalise the first
 * letter only), trimmed, and otherwise as typed: with or without the dash, which the server
 * ignores.
 */
function normalise(code: string): string {
  return code.trim().toUpperCase();
}

/** A 404: the code is unknown, expired or used (`device_code_unknown`). */
function isUnknownCode(e: unknown): boolean {
  if (!(e instanceof HttpErrorResponse)) return false;
  // Compared as strings: the code is not in the generated ErrorCode yet, and the brief's
  // body names it `error` where the server's other errors say `code`.
  const code: string | null = errorCode(e);
  const body: unknown = e.error;
  const error =
    body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return e.status === 404 || code === DEVICE_CODE_UNKNOWN || error === DEVICE_CODE_UNKNOWN;
}
