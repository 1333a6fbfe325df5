import { Component, inject, input, signal } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  Validators,
} from '@angular/forms';
import { Router, RouterLink } from '@angular/router';

import { AccountService } from '../core/account.service';
import { Policy } from '../core/api.models';
import { BrandingService } from '../core/branding.service';
import { errorMessage } from '../core/errors';
import { passwordRuleError, passwordValidators } from '../core/password-validators';
import { safeReturnUrl } from '../core/return-url';
import { BrandLogo } from '../shell/brand-logo';
import { LoginState, REGISTERED_REASON } from './login-state';

/**
 * Sign up. The validators are built from the server's `/api/auth/policy`, not hard-coded.
 * A sign-up makes no session: the login page follows, with the username filled in, and goes
 * on to where this page was for (`?returnUrl=`, the consent page of an application…).
 */
@Component({
  selector: 'app-register',
  imports: [BrandLogo, ReactiveFormsModule, RouterLink],
  templateUrl: './register.html',
})
export class Register {
  private readonly account = inject(AccountService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly router = inject(Router);
  protected readonly branding = inject(BrandingService);

  /** Where to go once signed in, handed on to the login page. */
  readonly returnUrl = input<string>();

  protected readonly policy = signal<Policy | null>(null);
  protected readonly loadError = signal('');
  protected readonly submitting = signal(false);
  protected readonly error = signal('');

  protected readonly form = this.fb.group({
    username: [''],
    email: [''],
    password: [''],
  });

  constructor() {
    this.account.policy().subscribe({
      next: (policy) => {
        this.applyPolicy(policy);
        this.policy.set(policy);
      },
      error: (e: unknown) => this.loadError.set(errorMessage(e)),
    });
  }

  private applyPolicy(policy: Policy): void {
    const { username, email, password } = this.form.controls;
    username.setValidators([
      Validators.required,
      Validators.minLength(policy.username.minLength),
      Validators.maxLength(policy.username.maxLength),
      ...(policy.username.pattern ? [Validators.pattern(new RegExp(policy.username.pattern))] : []),
    ]);
    email.setValidators([
      Validators.required,
      Validators.email,
      Validators.maxLength(policy.email.maxLength),
    ]);
    password.setValidators(passwordValidators(policy));
    for (const control of [username, email, password]) {
      control.updateValueAndValidity();
    }
  }

  /** Errors show as soon as the user types in a field (or leaves it). */
  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected usernameError(): string {
    const c = this.form.controls.username;
    const p = this.policy()?.username;
    if (c.hasError('required')) return 'Username is required.';
    if (c.hasError('minlength') || c.hasError('maxlength'))
      return `Username must be ${p?.minLength} to ${p?.maxLength} characters.`;
    if (c.hasError('pattern')) return 'Username may only use letters, digits, ".", "_" and "-".';
    return '';
  }

  protected emailError(): string {
    const c = this.form.controls.email;
    if (c.hasError('required')) return 'Email is required.';
    if (c.hasError('email')) return 'Email must be a valid email address.';
    if (c.hasError('maxlength'))
      return `Email must be at most ${this.policy()?.email.maxLength} characters.`;
    return '';
  }

  protected passwordError(): string {
    const c = this.form.controls.password;
    if (c.hasError('required')) return 'Password is required.';
    return passwordRuleError(c);
  }

  protected submit(): void {
    if (this.form.invalid || !this.policy()) {
      this.form.markAllAsTouched();
      return;
    }
    this.submitting.set(true);
    this.error.set('');
    const { username, email, password } = this.form.getRawValue();
    this.account.signUp(username, email, password).subscribe({
      next: () => {
        this.submitting.set(false);
        const returnUrl = safeReturnUrl(this.returnUrl() ?? null);
        const state: LoginState = { username };
        void this.router.navigate(['/login'], {
          queryParams: returnUrl === null ? { reason: REGISTERED_REASON } : { reason: REGISTERED_REASON, returnUrl },
          state,
        });
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.submitting.set(false);
      },
    });
  }
}
