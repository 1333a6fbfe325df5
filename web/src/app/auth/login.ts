import { Component, computed, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';

import { AccountService } from '../core/account.service';
import { MailPolicy, MfaChallenge } from '../core/api.models';
import { AuthService, isMfaChallenge } from '../core/auth.service';
import { SESSION_ENDED } from '../core/credentials.interceptor';
import { errorMessage } from '../core/errors';
import { ExternalNavigation } from '../core/external-navigation';
import { REAUTH_REASON } from '../core/oauth.service';
import { routedInApp, safeReturnUrl } from '../core/return-url';
import { passkeyErrorMessage, passkeysSupported } from '../core/webauthn';
import { SecondFactor } from './second-factor';

/**
 * Sign in with a username or an email address, or with a passkey (where the browser can and
 * the server has passkeys on); where the server sends mail, links to a password reset and (if
 * the server offers them) to sign-in links. When the account has a second factor, the
 * password step gives way to the second step (`SecondFactor`).
 */
@Component({
  selector: 'app-login',
  imports: [ReactiveFormsModule, RouterLink, SecondFactor],
  templateUrl: './login.html',
})
export class Login {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly navigation = inject(ExternalNavigation);

  /**
   * `?reason=ended` after a 401, `?reason=signedout` after signing out, `?reason=reauth` when
   * an application asked for a fresh sign-in (the consent page signed the user out first).
   */
  readonly reason = input<string>();
  /** Where to go once signed in (set by the route guards and the consent page). */
  readonly returnUrl = input<string>();

  protected readonly notice = computed(() => {
    switch (this.reason()) {
      case SESSION_ENDED:
        return 'Your session has ended. Please sign in again.';
      case 'signedout':
        return "You've been signed out.";
      case REAUTH_REASON:
        return 'Please sign in again to continue to the application.';
      default:
        return '';
    }
  });
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  /** The policy's `mail`; until it is known (or if it cannot be), no mail links show. */
  protected readonly mail = signal<MailPolicy | null>(null);
  /** Set when the password was right and the account has a second factor (or must enrol). */
  protected readonly challenge = signal<MfaChallenge | null>(null);
  /**
   * "Sign in with a passkey" shows where the browser can make one and the policy says
   * passkeys are on at this server; until the policy is known (or if it cannot be), it
   * does not.
   */
  protected readonly passkeys = signal(false);
  protected readonly passkeyBusy = signal(false);

  protected readonly form = inject(NonNullableFormBuilder).group({
    username: ['', Validators.required],
    password: ['', Validators.required],
  });

  constructor() {
    inject(AccountService)
      .policy()
      .subscribe({
        next: (policy) => {
          this.mail.set(policy.mail);
          this.passkeys.set(policy.passkeys && passkeysSupported());
        },
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
      const answer = await this.auth.signIn(username, password);
      this.form.controls.password.reset();
      if (isMfaChallenge(answer)) {
        this.challenge.set(answer);
      } else {
        await this.proceed();
      }
    } catch (e) {
      this.error.set(errorMessage(e));
      this.form.controls.password.reset();
    } finally {
      this.submitting.set(false);
    }
  }

  /** No username needed: the browser offers the passkeys it holds for this site. */
  protected async signInWithPasskey(): Promise<void> {
    if (this.passkeyBusy()) return;
    this.passkeyBusy.set(true);
    this.error.set('');
    try {
      await this.auth.signInWithPasskey();
      await this.proceed();
    } catch (e) {
      this.error.set(passkeyErrorMessage(e));
    } finally {
      this.passkeyBusy.set(false);
    }
  }

  /**
   * Signed in (after the second step too): where the guard, the consent page or a proxy in
   * front of another app wanted to go when that is a page of this host (`safeReturnUrl`),
   * otherwise the profile. A path the router has no page for (an app behind forward
   * authentication, such as `/app/`) is a full page load: the router would show Home.
   */
  protected async proceed(): Promise<void> {
    const back = safeReturnUrl(this.returnUrl());
    if (back !== null && !routedInApp(back, this.router.config)) {
      this.navigation.assign(back);
      return;
    }
    await this.router.navigateByUrl(back ?? '/profile');
  }

  /** The second step ended without a sign-in: back to the password, with why. */
  protected restart(message: string): void {
    this.challenge.set(null);
    this.error.set(message);
    this.form.controls.password.reset();
  }
}
