import { Component, computed, effect, inject, signal } from '@angular/core';

import { AccountService } from '../core/account.service';
import { CurrentUser, MailPolicy } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorCode, errorMessage } from '../core/errors';
import { RecoveryService } from '../core/recovery.service';

/** The banner shows for a signed-in user whose address is unproven, where mail is on. */
export function needsVerification(
  user: CurrentUser | null,
  mail: MailPolicy | null | undefined,
): boolean {
  return user !== null && !user.emailVerified && mail?.enabled === true;
}

/**
 * Above every page: "Your email address is not verified", with a button that mails a new
 * link. The policy is asked for only once such a user is signed in.
 */
@Component({
  selector: 'app-verify-banner',
  templateUrl: './verify-banner.html',
})
export class VerifyBanner {
  protected readonly auth = inject(AuthService);
  private readonly account = inject(AccountService);
  private readonly recovery = inject(RecoveryService);

  private readonly mail = signal<MailPolicy | null>(null);
  private policyAsked = false;
  /** The account the banner's messages are about. */
  private shownFor: number | undefined;

  protected readonly visible = computed(() => needsVerification(this.auth.user(), this.mail()));
  protected readonly sending = signal(false);
  protected readonly sent = signal('');
  protected readonly error = signal('');

  constructor() {
    effect(() => {
      const user = this.auth.user();
      // Another account (or nobody): what was said to the last one no longer applies.
      this.forget(user?.id);
      if (user && !user.emailVerified && !this.policyAsked) {
        this.policyAsked = true;
        this.account.policy().subscribe({
          next: (policy) => this.mail.set(policy.mail),
          error: () => {
            this.policyAsked = false;
          },
        });
      }
    });
  }

  private forget(userId: number | undefined): void {
    if (userId !== this.shownFor) {
      this.shownFor = userId;
      this.sent.set('');
      this.error.set('');
    }
  }

  protected resend(): void {
    this.sending.set(true);
    this.sent.set('');
    this.error.set('');
    this.recovery.resendVerification().subscribe({
      next: (body) => {
        this.sending.set(false);
        this.sent.set(body.message);
      },
      error: async (e: unknown) => {
        if (errorCode(e) === 'already_verified') {
          // Verified meanwhile (in another tab, say): the account, asked again, hides the banner.
          await this.auth.load();
        } else {
          this.error.set(errorMessage(e));
        }
        this.sending.set(false);
      },
    });
  }
}
