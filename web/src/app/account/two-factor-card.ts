import { Component, computed, inject, signal, viewChild } from '@angular/core';

import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';
import { MfaStatus, TotpSetup } from '../core/api.models';
import { MfaService } from '../core/mfa.service';
import { Reauthentication } from '../core/reauth';
import { ReauthPrompt } from './reauth-prompt';
import { RecoveryCodesView } from './recovery-codes-view';
import { TotpEnrolment } from './totp-enrolment';

/**
 * The profile's two-factor authentication: the status, setting up an authenticator app
 * (QR code, key, first code, then the recovery codes), removing it, new recovery codes.
 */
@Component({
  selector: 'app-two-factor-card',
  imports: [ReauthPrompt, RecoveryCodesView, TotpEnrolment],
  templateUrl: './two-factor-card.html',
})
export class TwoFactorCard {
  private readonly mfa = inject(MfaService);
  private readonly auth = inject(AuthService);

  protected readonly status = signal<MfaStatus | null>(null);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  protected readonly setup = signal<TotpSetup | null>(null);
  protected readonly setupError = signal('');
  protected readonly confirming = signal(false);
  protected readonly confirmingRemove = signal(false);
  /** Recovery codes just made, shown once. */
  protected readonly codes = signal<string[] | null>(null);
  protected readonly username = computed(() => this.auth.user()?.username ?? '');
  protected readonly reauth = new Reauthentication();

  private readonly enrolment = viewChild(TotpEnrolment);

  constructor() {
    this.load();
  }

  load(): void {
    this.mfa.status().subscribe({
      next: (status) => {
        this.status.set(status);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  protected startSetup(): void {
    this.busy.set(true);
    this.error.set('');
    this.notice.set('');
    this.codes.set(null);
    this.reauth.run($localize`:@@account.twoFactor.reauthSetup:Set up an authenticator app`, (password) => this.mfa.setupTotp(password), {
      next: (setup) => {
        this.busy.set(false);
        this.setupError.set('');
        this.setup.set(setup);
      },
      error: (e) => {
        this.busy.set(false);
        this.error.set(errorMessage(e));
      },
      asked: () => this.busy.set(false),
    });
  }

  protected confirm(code: string): void {
    this.confirming.set(true);
    this.setupError.set('');
    this.mfa.confirmTotp(code).subscribe({
      next: (body) => {
        this.confirming.set(false);
        this.setup.set(null);
        this.codes.set([...body.recoveryCodes]);
        this.notice.set($localize`:@@account.twoFactor.turnedOn:Two-factor authentication is on: signing in now also asks for a code from the app.`);
        this.load();
      },
      error: (e: unknown) => {
        this.confirming.set(false);
        this.setupError.set(errorMessage(e));
        this.enrolment()?.clearCode();
      },
    });
  }

  protected cancelSetup(): void {
    this.setup.set(null);
    this.setupError.set('');
  }

  protected removeTotp(): void {
    this.confirmingRemove.set(false);
    this.busy.set(true);
    this.error.set('');
    this.notice.set('');
    this.reauth.run($localize`:@@account.twoFactor.reauthRemove:Remove the authenticator app`, (password) => this.mfa.removeTotp(password), {
      next: (body) => {
        this.busy.set(false);
        this.codes.set(null);
        this.notice.set(body?.message || $localize`:@@account.twoFactor.removed:TOTP removed.`);
        this.load();
      },
      error: (e) => {
        this.busy.set(false);
        this.error.set(errorMessage(e));
      },
      asked: () => this.busy.set(false),
    });
  }

  protected newCodes(): void {
    this.busy.set(true);
    this.error.set('');
    this.notice.set('');
    this.reauth.run($localize`:@@account.twoFactor.reauthNewCodes:Create new recovery codes`, (password) => this.mfa.newRecoveryCodes(password), {
      next: (body) => {
        this.busy.set(false);
        this.codes.set([...body.recoveryCodes]);
        this.notice.set($localize`:@@account.twoFactor.newCodesMade:New recovery codes: the old ones no longer work.`);
        this.load();
      },
      error: (e) => {
        this.busy.set(false);
        this.error.set(errorMessage(e));
      },
      asked: () => this.busy.set(false),
    });
  }
}
