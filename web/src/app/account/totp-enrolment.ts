import { Component, computed, inject, input, output } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

import { TotpSetup } from '../core/api.models';
import { QrCode } from './qr-code';

/** A TOTP code as typed: six digits, maybe with a space in the middle. */
export const TOTP_CODE_PATTERN = /^\s*\d{3}\s?\d{3}\s*$/;

/** The code to send: the digits alone. */
export function totpDigits(typed: string): string {
  return typed.replace(/\s+/g, '');
}

/**
 * Enrolling a TOTP app: the secret as a QR code and as text, and the field for the app's
 * first code. The parent sends the code (`confirm`) and says how that went (`busy`, `error`).
 */
@Component({
  selector: 'app-totp-enrolment',
  imports: [ReactiveFormsModule, QrCode],
  templateUrl: './totp-enrolment.html',
})
export class TotpEnrolment {
  readonly setup = input.required<TotpSetup>();
  readonly busy = input(false);
  readonly error = input('');
  /** Shows a Cancel button that emits `cancelled`. */
  readonly cancellable = input(true);

  readonly confirm = output<string>();
  readonly cancelled = output<void>();

  /** The secret in groups of four, easier to type. */
  protected readonly groupedSecret = computed(() => this.setup().secret.replace(/(.{4})(?=.)/g, '$1 '));

  protected readonly form = inject(NonNullableFormBuilder).group({
    code: ['', [Validators.required, Validators.pattern(TOTP_CODE_PATTERN)]],
  });

  protected submit(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.confirm.emit(totpDigits(this.form.getRawValue().code));
  }

  /** Lets the parent clear the field after a wrong code. */
  clearCode(): void {
    this.form.reset();
  }
}
