import { Component, computed, inject, input, signal } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  Validators,
} from '@angular/forms';
import { RouterLink } from '@angular/router';
import { Observable } from 'rxjs';

import { AccountService } from '../core/account.service';
import { MessageBody, Policy } from '../core/api.models';
import { errorMessage } from '../core/errors';
import { RecoveryService } from '../core/recovery.service';

/** What the mailed link is for: choosing a new password, or signing in without one. */
export type LinkPurpose = 'reset' | 'signin';

interface Wording {
  heading: string;
  intro: string;
  button: string;
  unavailable: string;
}

/** The page's words for each purpose (a function: the translations load after this module). */
function wordingOf(purpose: LinkPurpose): Wording {
  switch (purpose) {
    case 'reset':
      return {
        heading: $localize`:@@auth.emailLink.resetHeading:Forgot password`,
        intro: $localize`:@@auth.emailLink.resetIntro:Enter your account's email address: we'll mail you a link to choose a new password.`,
        button: $localize`:@@auth.emailLink.resetButton:Send me a reset link`,
        unavailable: $localize`:@@auth.emailLink.resetUnavailable:This server sends no mail, so a password cannot be reset here. An administrator can help.`,
      };
    case 'signin':
      return {
        heading: $localize`:@@auth.emailLink.signInHeading:Sign in by email`,
        intro: $localize`:@@auth.emailLink.signInIntro:Enter your account's email address: we'll mail you a link that signs you in.`,
        button: $localize`:@@auth.emailLink.signInButton:Email me a sign-in link`,
        unavailable: $localize`:@@auth.emailLink.signInUnavailable:This server does not offer sign-in links.`,
      };
  }
}

/**
 * Asks for a link by mail: `/forgot-password` (a password reset link) and `/sign-in-link`
 * (a sign-in link), told apart by the route's `purpose`. The server's answer is the same
 * whether or not an account has the address, and is shown as it comes.
 */
@Component({
  selector: 'app-email-link',
  imports: [ReactiveFormsModule, RouterLink],
  templateUrl: './email-link.html',
})
export class EmailLink {
  private readonly account = inject(AccountService);
  private readonly recovery = inject(RecoveryService);

  /** From the route's data. */
  readonly purpose = input<LinkPurpose>('reset');

  protected readonly wording = computed(() => wordingOf(this.purpose()));
  protected readonly policy = signal<Policy | null>(null);
  /** The server sends this kind of link (per its policy). */
  protected readonly available = computed(() => {
    const mail = this.policy()?.mail;
    return this.purpose() === 'signin' ? !!mail?.magicLinks : !!mail?.enabled;
  });
  protected readonly loadError = signal('');
  protected readonly submitting = signal(false);
  protected readonly error = signal('');
  protected readonly success = signal('');

  protected readonly form = inject(NonNullableFormBuilder).group({
    email: [''],
  });

  constructor() {
    this.account.policy().subscribe({
      next: (policy) => {
        this.form.controls.email.setValidators([
          Validators.required,
          Validators.email,
          Validators.maxLength(policy.email.maxLength),
        ]);
        this.form.controls.email.updateValueAndValidity();
        this.policy.set(policy);
      },
      error: (e: unknown) => this.loadError.set(errorMessage(e)),
    });
  }

  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected emailError(): string {
    const c = this.form.controls.email;
    if (c.hasError('required')) return $localize`:@@auth.emailLink.emailRequired:Email is required.`;
    if (c.hasError('email')) return $localize`:@@auth.emailLink.emailInvalid:Email must be a valid email address.`;
    if (c.hasError('maxlength'))
      return $localize`:@@auth.emailLink.emailTooLong:Email must be at most ${this.policy()?.email.maxLength}:max: characters.`;
    return '';
  }

  protected submit(): void {
    if (this.form.invalid || !this.policy()) {
      this.form.markAllAsTouched();
      return;
    }
    this.submitting.set(true);
    this.error.set('');
    const { email } = this.form.getRawValue();
    const request: Observable<MessageBody> =
      this.purpose() === 'signin'
        ? this.recovery.requestSignInLink(email)
        : this.recovery.requestReset(email);
    request.subscribe({
      next: (body) => {
        this.success.set(body.message);
        this.submitting.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.submitting.set(false);
      },
    });
  }
}
