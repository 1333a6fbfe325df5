import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  Validators,
} from '@angular/forms';
import { Router } from '@angular/router';

import { AccountService } from '../core/account.service';
import { Policy, SessionInfo } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';
import {
  passwordRuleError,
  passwordValidators,
  sameNewPassword,
} from '../core/password-validators';
import { ApiKeysCard } from './api-keys-card';
import { ConnectedAppsCard } from './connected-apps-card';
import { LinkedSigninsCard } from './linked-signins-card';
import { PasskeysCard } from './passkeys-card';
import { TwoFactorCard } from './two-factor-card';

/** How each kind of session was signed in, as the session list says it. */
const METHOD_LABELS: Record<string, string> = {
  password: 'Password',
  magic_link: 'Emailed link',
  passkey: 'Passkey',
  provider: 'Another provider',
  provider_mfa: 'Another provider (both factors)',
};
const SECOND_FACTOR_LABELS: Record<string, string> = {
  totp: 'authenticator app',
  recovery_code: 'recovery code',
  passkey: 'passkey',
};

/**
 * The account: who I am (roles, groups, permissions), my passkeys and second factors, my
 * sign-ins at other identity providers, the applications I allowed, my API keys, my sessions (with remote sign-out), a password change
 * and, where the server sends mail, an address change.
 */
@Component({
  selector: 'app-profile',
  imports: [DatePipe, ReactiveFormsModule, ApiKeysCard, ConnectedAppsCard, LinkedSigninsCard, PasskeysCard, TwoFactorCard],
  templateUrl: './profile.html',
})
export class Profile {
  protected readonly auth = inject(AuthService);
  private readonly account = inject(AccountService);
  private readonly router = inject(Router);

  protected readonly sessions = signal<SessionInfo[]>([]);
  protected readonly loadingSessions = signal(true);
  protected readonly sessionsError = signal('');
  protected readonly busySession = signal<string | null>(null);
  protected readonly signingOutAll = signal(false);

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

  protected readonly policy = signal<Policy | null>(null);
  protected readonly changingEmail = signal(false);
  protected readonly emailError = signal('');
  protected readonly emailDone = signal('');
  protected readonly emailForm = inject(NonNullableFormBuilder).group({
    currentPassword: ['', Validators.required],
    newEmail: ['', [Validators.required, Validators.email]],
  });

  constructor() {
    void this.auth.load();
    this.loadSessions();
    this.account.policy().subscribe({
      next: (policy) => {
        this.passwordForm.controls.newPassword.setValidators(passwordValidators(policy));
        this.passwordForm.controls.newPassword.updateValueAndValidity();
        this.emailForm.controls.newEmail.addValidators(Validators.maxLength(policy.email.maxLength));
        this.emailForm.controls.newEmail.updateValueAndValidity();
        this.policy.set(policy);
      },
      error: () => undefined,
    });
  }

  protected loadSessions(): void {
    this.loadingSessions.set(true);
    this.sessionsError.set('');
    this.account.sessions().subscribe({
      next: (items) => {
        this.sessions.set(items);
        this.loadingSessions.set(false);
      },
      error: (e: unknown) => {
        this.sessionsError.set(errorMessage(e));
        this.loadingSessions.set(false);
      },
    });
  }

  protected endSession(session: SessionInfo): void {
    if (session.current) {
      void this.signOutHere();
      return;
    }
    this.busySession.set(session.id);
    this.sessionsError.set('');
    this.account.endSession(session.id).subscribe({
      next: () => {
        this.busySession.set(null);
        this.sessions.update((list) => list.filter((s) => s.id !== session.id));
      },
      error: (e: unknown) => {
        this.busySession.set(null);
        this.sessionsError.set(errorMessage(e));
      },
    });
  }

  private async signOutHere(): Promise<void> {
    try {
      await this.auth.signOut();
    } catch {
      // Forgotten locally either way.
    }
    await this.router.navigate(['/login'], { queryParams: { reason: 'signedout' } });
  }

  protected signOutEverywhere(): void {
    this.signingOutAll.set(true);
    this.sessionsError.set('');
    this.account.signOutEverywhere().subscribe({
      next: () => {
        this.signingOutAll.set(false);
        this.auth.clear();
        void this.router.navigate(['/login'], { queryParams: { reason: 'signedout' } });
      },
      error: (e: unknown) => {
        this.signingOutAll.set(false);
        this.sessionsError.set(errorMessage(e));
      },
    });
  }

  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected newPasswordError(): string {
    const c = this.passwordForm.controls.newPassword;
    if (c.hasError('required')) return 'New password is required.';
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
        this.passwordDone.set(body.message || 'Password changed.');
        this.passwordForm.reset();
        this.loadSessions();
      },
      error: (e: unknown) => {
        this.changing.set(false);
        this.passwordError.set(errorMessage(e));
      },
    });
  }

  protected newEmailError(): string {
    const c = this.emailForm.controls.newEmail;
    if (c.hasError('required')) return 'New email is required.';
    if (c.hasError('email')) return 'Email must be a valid email address.';
    if (c.hasError('maxlength'))
      return `Email must be at most ${this.policy()?.email.maxLength} characters.`;
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

  /**
   * `password`, `magic_link`, `passkey` (and any later method, as the server names it),
   * with the second factor that completed the sign-in: "Password + authenticator app".
   */
  protected methodLabel(method: string | null | undefined, secondFactor?: string | null): string {
    if (!method) return '';
    const first = METHOD_LABELS[method] ?? method.replace(/_/g, ' ');
    if (!secondFactor) return first;
    return `${first} + ${SECOND_FACTOR_LABELS[secondFactor] ?? secondFactor.replace(/_/g, ' ')}`;
  }

  protected describeAgent(agent: SessionInfo['userAgent']): string {
    if (!agent) return 'Unknown device';
    const browser = /(Edg|Firefox|Chrome|Chromium|Safari)\/[\d.]+/.exec(agent)?.[0];
    const os = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(agent)?.[0];
    return browser || os ? [browser, os].filter(Boolean).join(' on ') : agent.slice(0, 60);
  }
}
