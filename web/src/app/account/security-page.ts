import { Component, inject, signal } from '@angular/core';
import { AbstractControl, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

import { AccountService } from '../core/account.service';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';
import { passwordRuleError, passwordValidators, sameNewPassword } from '../core/password-validators';
import { PasskeysCard } from './passkeys-card';
import { TwoFactorCard } from './two-factor-card';

/** How I sign in: the password, passkeys, and the second factor. */
@Component({
  selector: 'app-security-page',
  imports: [ReactiveFormsModule, PasskeysCard, TwoFactorCard],
  templateUrl: './security-page.html',
})
export class SecurityPage {
  protected readonly auth = inject(AuthService);
  private readonly account = inject(AccountService);

  protected readonly changing = signal(false);
  protected readonly passwordError = signal('');
  protected readonly passwordDone = signal('');
  protected readonly passwordForm = inject(NonNullableFormBuilder).group(
    {
      currentPassword: ['', Validators.required],
      newPassword: ['', Validators.required],
      confirm: ['', Validators.required],
    },
    { validators: sameNewPassword },
  );

  constructor() {
    this.account.policy().subscribe({
      next: (policy) => {
        this.passwordForm.controls.newPassword.setValidators(passwordValidators(policy));
        this.passwordForm.controls.newPassword.updateValueAndValidity();
      },
      error: () => undefined,
    });
  }

  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected newPasswordError(): string {
    const c = this.passwordForm.controls.newPassword;
    if (c.hasError('required')) return $localize`:@@account.security.newPasswordRequired:New password is required.`;
    return passwordRuleError(c);
  }

  protected changePassword(): void {
    if (this.passwordForm.invalid) {
      this.passwordForm.markAllAsTouched();
      return;
    }
    const { currentPassword, newPassword } = this.passwordForm.getRawValue();
    this.changing.set(true);
    this.passwordError.set('');
    this.passwordDone.set('');
    this.account.changePassword(currentPassword, newPassword).subscribe({
      next: (body) => {
        this.changing.set(false);
        this.passwordDone.set(body.message || $localize`:@@account.security.passwordChanged:Password changed.`);
        this.passwordForm.reset();
      },
      error: (e: unknown) => {
        this.changing.set(false);
        this.passwordError.set(errorMessage(e));
      },
    });
  }
}
