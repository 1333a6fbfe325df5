import { Component, computed, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';

import { AccountService } from '../core/account.service';
import { MailPolicy } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { SESSION_ENDED } from '../core/credentials.interceptor';
import { errorMessage } from '../core/errors';

/**
 * Sign in with a username or an email address; where the server sends mail, links to a
 * password reset and (if the server offers them) to sign-in links.
 */
@Component({
  selector: 'app-login',
  imports: [ReactiveFormsModule, RouterLink],
  templateUrl: './login.html',
})
export class Login {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);

  /** `?reason=ended` after a 401, `?reason=signedout` after signing out. */
  readonly reason = input<string>();
  /** Where to go once signed in (set by the route guards). */
  readonly returnUrl = input<string>();

  protected readonly notice = computed(() => {
    switch (this.reason()) {
      case SESSION_ENDED:
        return 'Your session has ended. Please sign in again.';
      case 'signedout':
        return "You've been signed out.";
      default:
        return '';
    }
  });
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  /** The policy's `mail`; until it is known (or if it cannot be), no mail links show. */
  protected readonly mail = signal<MailPolicy | null>(null);

  protected readonly form = inject(NonNullableFormBuilder).group({
    username: ['', Validators.required],
    password: ['', Validators.required],
  });

  constructor() {
    inject(AccountService)
      .policy()
      .subscribe({
        next: (policy) => this.mail.set(policy.mail),
        error: () => undefined,
      });
  }

  protected async submit(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.submitting.set(true);
    this.error.set('');
    const { username, password } = this.form.getRawValue();
    try {
      await this.auth.signIn(username, password);
      const target = this.returnUrl();
      await this.router.navigateByUrl(
        target && target.startsWith('/') && !target.startsWith('//') ? target : '/profile',
      );
    } catch (e) {
      this.error.set(errorMessage(e));
      this.form.controls.password.reset();
    } finally {
      this.submitting.set(false);
    }
  }
}
