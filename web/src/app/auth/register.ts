import { HttpErrorResponse } from '@angular/common/http';
import { Component, Injector, afterNextRender, inject, input, signal } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  Validators,
} from '@angular/forms';
import { Router, RouterLink } from '@angular/router';

import { AccountService } from '../core/account.service';
import { Policy } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { BrandingService } from '../core/branding.service';
import { errorCode, errorMessage } from '../core/errors';
import { ExternalNavigation } from '../core/external-navigation';
import { passwordRuleError, passwordValidators } from '../core/password-validators';
import { AFTER_SIGN_IN, routedInApp, safeReturnUrl } from '../core/return-url';
import { PasskeyCancelled, passkeyErrorMessage, passkeysSupported } from '../core/webauthn';
import { BrandLogo } from '../shell/brand-logo';
import { LoginState, REGISTERED_REASON } from './login-state';

/**
 * Sign up. The validators are built from the server's `/api/auth/policy`, not hard-coded.
 * A sign-up with a password makes no session: the login page follows, with the username
 * filled in, and goes on to where this page was for (`?returnUrl=`, the consent page of an
 * application…).
 *
 * Where the server lets an account sign up with a passkey alone (`passkeySignup`) and the
 * browser can make one, that is the first choice: username and email, then the browser's
 * passkey dialog, and the new account is signed in at once and goes where this page was for
 * (else the account console). The password stays one click away ("or choose a password").
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
  private readonly auth = inject(AuthService);
  private readonly navigation = inject(ExternalNavigation);
  private readonly injector = inject(Injector);
  protected readonly branding = inject(BrandingService);

  /** Where to go once signed in, handed on to the login page. */
  readonly returnUrl = input<string>();

  protected readonly policy = signal<Policy | null>(null);
  protected readonly loadError = signal('');
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  /** A passkey dialog closed without a passkey: nothing went wrong, the form waits as it was. */
  protected readonly notice = signal('');
  /** Whether signing up with a passkey is offered (the policy says so and the browser can). */
  protected readonly passkeySignup = signal(false);
  /** Whether the form asks for a password: always, unless the passkey is offered and chosen. */
  protected readonly withPassword = signal(true);
  /**
   * The address of an account made with a passkey that must verify it before it signs in
   * (`email_not_verified`); the form gives way to what to do next.
   */
  protected readonly madeUnverified = signal<string | null>(null);

  protected readonly form = this.fb.group({
    username: [''],
    email: [''],
    password: [''],
  });

  constructor() {
    this.account.policy().subscribe({
      next: (policy) => {
        this.applyPolicy(policy);
        if (policy.passkeySignup === true && passkeysSupported()) {
          this.passkeySignup.set(true);
          this.usePassword(false);
        }
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

  /**
   * Switches between the passkey and the password. The password field (and its validators)
   * exists only while it is asked for; focus goes to what the switch revealed.
   */
  protected usePassword(withPassword: boolean, focus = false): void {
    const password = this.form.controls.password;
    if (withPassword) password.enable();
    else password.disable();
    this.withPassword.set(withPassword);
    this.error.set('');
    this.notice.set('');
    if (focus) {
      const id = withPassword ? 'reg-password' : 'reg-passkey-submit';
      afterNextRender(() => document.getElementById(id)?.focus(), { injector: this.injector });
    }
  }

  /** Errors show as soon as the user types in a field (or leaves it). */
  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected usernameError(): string {
    const c = this.form.controls.username;
    const p = this.policy()?.username;
    if (c.hasError('required')) return $localize`:@@auth.register.usernameRequired:Username is required.`;
    if (c.hasError('minlength') || c.hasError('maxlength'))
      return $localize`:@@auth.register.usernameLength:Username must be ${p?.minLength}:min: to ${p?.maxLength}:max: characters.`;
    if (c.hasError('pattern'))
      return $localize`:@@auth.register.usernamePattern:Username may only use letters, digits, ".", "_" and "-".`;
    if (c.hasError('taken')) return c.getError('taken') as string;
    return '';
  }

  protected emailError(): string {
    const c = this.form.controls.email;
    if (c.hasError('required')) return $localize`:@@auth.register.emailRequired:Email is required.`;
    if (c.hasError('email')) return $localize`:@@auth.register.emailInvalid:Email must be a valid email address.`;
    if (c.hasError('maxlength'))
      return $localize`:@@auth.register.emailTooLong:Email must be at most ${this.policy()?.email.maxLength}:max: characters.`;
    if (c.hasError('taken')) return c.getError('taken') as string;
    return '';
  }

  protected passwordError(): string {
    const c = this.form.controls.password;
    if (c.hasError('required')) return $localize`:@@auth.register.passwordRequired:Password is required.`;
    return passwordRuleError(c);
  }

  protected submit(): void {
    if (this.form.invalid || !this.policy()) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.submitting()) return;
    if (!this.withPassword()) {
      void this.signUpWithPasskey();
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
        this.showServerError(e);
        this.submitting.set(false);
      },
    });
  }

  /**
   * The account is made with its passkey and signed in, then goes where this page was for.
   * A closed dialog leaves the form as it was, with a calm word.
   */
  private async signUpWithPasskey(): Promise<void> {
    this.submitting.set(true);
    this.error.set('');
    this.notice.set('');
    const { username, email } = this.form.getRawValue();
    try {
      await this.auth.signUpWithPasskey(username, email);
    } catch (e) {
      this.submitting.set(false);
      if (errorCode(e) === 'email_not_verified') {
        this.madeUnverified.set(email);
      } else if (e instanceof PasskeyCancelled || (e instanceof DOMException && e.name === 'NotAllowedError')) {
        this.notice.set(passkeyErrorMessage(e));
      } else if (e instanceof HttpErrorResponse) {
        this.showServerError(e);
      } else {
        this.error.set(passkeyErrorMessage(e));
      }
      return;
    }
    // Like a sign-in's way on (the login page's): a page of this app, or a full load of
    // another app's path on this host (one behind forward authentication).
    const back = safeReturnUrl(this.returnUrl() ?? null);
    if (back !== null && !routedInApp(back, this.router.config)) {
      this.navigation.assign(back);
      return;
    }
    await this.router.navigateByUrl(back ?? AFTER_SIGN_IN);
  }

  /** A taken username or email shows on its field; anything else in the alert. */
  private showServerError(e: unknown): void {
    const code = errorCode(e);
    const field =
      code === 'username_taken' ? this.form.controls.username : code === 'email_taken' ? this.form.controls.email : null;
    if (field === null) {
      this.error.set(errorMessage(e));
      return;
    }
    field.setErrors({ taken: errorMessage(e) });
    field.markAsTouched();
  }
}
