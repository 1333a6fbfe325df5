import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';
import { AbstractControl, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

import { AccountService } from '../core/account.service';
import { Policy } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';
import { RoleLabelPipe } from '../core/role-label';

/**
 * Who I am: username, email (and, where the server sends mail, whether it is verified and a
 * way to change it), roles by name, groups, permissions.
 */
@Component({
  selector: 'app-profile-page',
  imports: [DatePipe, ReactiveFormsModule, RoleLabelPipe],
  templateUrl: './profile-page.html',
})
export class ProfilePage {
  protected readonly auth = inject(AuthService);
  private readonly account = inject(AccountService);

  protected readonly policy = signal<Policy | null>(null);
  protected readonly changingEmail = signal(false);
  protected readonly emailError = signal('');
  protected readonly emailDone = signal('');
  protected readonly emailForm = inject(NonNullableFormBuilder).group({
    currentPassword: ['', Validators.required],
    newEmail: ['', [Validators.required, Validators.email]],
  });

  constructor() {
    // Asked afresh: roles, groups or the address may have changed since the app started.
    void this.auth.load();
    this.account.policy().subscribe({
      next: (policy) => {
        this.emailForm.controls.newEmail.addValidators(Validators.maxLength(policy.email.maxLength));
        this.emailForm.controls.newEmail.updateValueAndValidity();
        this.policy.set(policy);
      },
      error: () => undefined,
    });
  }

  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected newEmailError(): string {
    const c = this.emailForm.controls.newEmail;
    if (c.hasError('required')) return $localize`:@@account.profile.newEmailRequired:New email is required.`;
    if (c.hasError('email')) return $localize`:@@account.profile.newEmailInvalid:Email must be a valid email address.`;
    if (c.hasError('maxlength')) return $localize`:@@account.profile.newEmailTooLong:Email must be at most ${this.policy()?.email.maxLength}:max: characters.`;
    return '';
  }

  /** Mails a link to the new address: the address changes once it is opened. */
  protected changeEmail(): void {
    if (this.emailForm.invalid) {
      this.emailForm.markAllAsTouched();
      return;
    }
    const { currentPassword, newEmail } = this.emailForm.getRawValue();
    this.changingEmail.set(true);
    this.emailError.set('');
    this.emailDone.set('');
    this.account.changeEmail(currentPassword, newEmail).subscribe({
      next: (body) => {
        this.changingEmail.set(false);
        this.emailDone.set(body.message);
        this.emailForm.reset();
      },
      error: (e: unknown) => {
        this.changingEmail.set(false);
        this.emailError.set(errorMessage(e));
        this.emailForm.controls.currentPassword.reset();
      },
    });
  }
}
