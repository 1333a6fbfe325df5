import { Component, inject, input, signal } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  Validators,
} from '@angular/forms';
import { RouterLink } from '@angular/router';

import { AccountService } from '../core/account.service';
import { Policy } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { incompleteLink, errorCode, errorMessage } from '../core/errors';
import {
  passwordRuleError,
  passwordValidators,
  sameNewPassword,
} from '../core/password-validators';
import { RecoveryService } from '../core/recovery.service';

/**
 * `/reset-password?token=…`, the page of a password reset link: a new password, twice,
 * checked with the server's policy as sign-up checks it. A dead link offers a new one.
 */
@Component({
  selector: 'app-reset-password',
  imports: [ReactiveFormsModule, RouterLink],
  templateUrl: './reset-password.html',
})
export class ResetPassword {
  private readonly account = inject(AccountService);
  private readonly auth = inject(AuthService);
  private readonly recovery = inject(RecoveryService);

  /** The link's `?token=`. */
  readonly token = input<string>();

  protected readonly policy = signal<Policy | null>(null);
  protected readonly loadError = signal('');
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  protected readonly done = signal('');
  /** The server's word that the link is unknown, used or expired. */
  protected readonly linkError = signal('');
  protected readonly incompleteLink = incompleteLink();

  protected readonly form = inject(NonNullableFormBuilder).group(
    {
      newPassword: [''],
      confirm: ['', Validators.required],
    },
    { validators: sameNewPassword },
  );

  constructor() {
    this.account.policy().subscribe({
      next: (policy) => {
        this.form.controls.newPassword.setValidators(passwordValidators(policy));
        this.form.controls.newPassword.updateValueAndValidity();
        this.policy.set(policy);
      },
      error: (e: unknown) => this.loadError.set(errorMessage(e)),
    });
  }

  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected newPasswordError(): string {
    const c = this.form.controls.newPassword;
    if (c.hasError('required')) return $localize`:@@auth.resetPassword.newRequired:New password is required.`;
    return passwordRuleError(c);
  }

  protected confirmInvalid(): boolean {
    const c = this.form.controls.confirm;
    return (
      (this.form.hasError('mismatch') && c.dirty) || (c.hasError('required') && c.touched)
    );
  }

  protected confirmError(): string {
    if (this.form.controls.confirm.hasError('required'))
      return $localize`:@@auth.resetPassword.confirmRequired:Repeat the new password.`;
    return this.form.hasError('mismatch') ? $localize`:@@auth.resetPassword.mismatch:The passwords do not match.` : '';
  }

  protected submit(): void {
    const token = this.token();
    if (!token) {
      this.linkError.set(incompleteLink());
      return;
    }
    if (this.form.invalid || !this.policy()) {
      this.form.markAllAsTouched();
      return;
    }
    this.submitting.set(true);
    this.error.set('');
    const { newPassword } = this.form.getRawValue();
    this.recovery.confirmReset(token, newPassword).subscribe({
      next: (body) => {
        this.submitting.set(false);
        this.done.set(body.message);
        this.form.reset();
        // Every session of the account has ended; if this browser had one, it is gone.
        if (this.auth.signedIn()) void this.auth.load();
      },
      error: (e: unknown) => {
        this.submitting.set(false);
        if (errorCode(e) === 'invalid_token') {
          this.linkError.set(errorMessage(e));
        } else {
          this.error.set(errorMessage(e));
        }
      },
    });
  }
}
