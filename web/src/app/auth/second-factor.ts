import { Component, OnInit, computed, inject, input, output, signal, viewChild } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  ValidationErrors,
  Validators,
} from '@angular/forms';

import { RecoveryCodesView } from '../account/recovery-codes-view';
import { TOTP_CODE_PATTERN, TotpEnrolment, totpDigits } from '../account/totp-enrolment';
import { AuthService } from '../core/auth.service';
import { errorCode, errorMessage } from '../core/errors';
import { MfaChallenge, TotpSetup } from '../core/api.models';
import { MfaService } from '../core/mfa.service';
import { passkeyErrorMessage, passkeysSupported } from '../core/webauthn';

/** How the second step is being done. */
type Mode = 'totp' | 'recovery' | 'passkey' | 'enrol' | 'codes';

/** A recovery code as typed: 16 letters or digits, in groups of four, dashes optional. */
function recoveryCode(control: AbstractControl<string>): ValidationErrors | null {
  const bare = control.value.replace(/[\s-]+/g, '');
  return bare === '' || /^[A-Za-z0-9]{16}$/.test(bare) ? null : { recoveryCode: true };
}

/**
 * The second step of a sign-in whose answer was the MFA challenge (after a password or a
 * sign-in link): a TOTP code, a passkey or a recovery code, as the challenge's `methods`
 * allow; or, where the account must enrol first, a TOTP app's enrolment, then its recovery
 * codes. `done` once signed in; `back` when the sign-in must start again (with the reason,
 * or '' when the user chose to).
 */
@Component({
  selector: 'app-second-factor',
  imports: [ReactiveFormsModule, TotpEnrolment, RecoveryCodesView],
  templateUrl: './second-factor.html',
})
export class SecondFactor implements OnInit {
  private readonly auth = inject(AuthService);
  private readonly mfa = inject(MfaService);

  readonly challenge = input.required<MfaChallenge>();
  readonly done = output<void>();
  readonly back = output<string>();

  protected readonly mode = signal<Mode>('totp');
  protected readonly busy = signal(false);
  protected readonly error = signal('');
  protected readonly setup = signal<TotpSetup | null>(null);
  protected readonly recoveryCodes = signal<string[]>([]);
  protected readonly username = computed(() => this.auth.user()?.username ?? '');

  protected readonly canPasskey = computed(
    () => this.challenge().methods.includes('passkey') && passkeysSupported(),
  );
  protected readonly hasPasskey = computed(() => this.challenge().methods.includes('passkey'));
  protected readonly canTotp = computed(() => this.challenge().methods.includes('totp'));
  protected readonly canRecovery = computed(() => this.challenge().methods.includes('recovery'));

  protected readonly form = inject(NonNullableFormBuilder).group({ code: [''] });

  private readonly enrolment = viewChild(TotpEnrolment);

  ngOnInit(): void {
    const challenge = this.challenge();
    if (challenge.enrolmentRequired) {
      this.mode.set('enrol');
      this.startEnrolment();
    } else {
      this.use(this.canTotp() ? 'totp' : this.canRecovery() ? 'recovery' : 'passkey');
    }
  }

  protected use(mode: 'totp' | 'recovery' | 'passkey'): void {
    this.mode.set(mode);
    this.error.set('');
    const code = this.form.controls.code;
    code.reset();
    code.setValidators(
      mode === 'totp'
        ? [Validators.required, Validators.pattern(TOTP_CODE_PATTERN)]
        : mode === 'recovery'
          ? [Validators.required, recoveryCode]
          : [],
    );
    code.updateValueAndValidity();
  }

  protected async verifyCode(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    const typed = this.form.getRawValue().code;
    const code = this.mode() === 'totp' ? totpDigits(typed) : typed.replace(/\s+/g, '');
    await this.attempt(() => this.auth.verifyMfa(this.challenge().mfaToken, { code }), errorMessage);
  }

  protected async verifyWithPasskey(): Promise<void> {
    await this.attempt(() => this.auth.verifyMfaWithPasskey(this.challenge().mfaToken), passkeyErrorMessage);
  }

  private async attempt(step: () => Promise<unknown>, describe: (e: unknown) => string): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    this.error.set('');
    try {
      await step();
      this.done.emit();
    } catch (e) {
      if (!this.expired(e)) {
        this.error.set(describe(e));
        this.form.controls.code.reset();
      }
    } finally {
      this.busy.set(false);
    }
  }

  private startEnrolment(): void {
    this.busy.set(true);
    this.error.set('');
    this.mfa.setupTotpForSignIn(this.challenge().mfaToken).subscribe({
      next: (setup) => {
        this.busy.set(false);
        this.setup.set(setup);
      },
      error: (e: unknown) => {
        this.busy.set(false);
        if (!this.expired(e)) this.error.set(errorMessage(e));
      },
    });
  }

  protected async confirmEnrolment(code: string): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      this.recoveryCodes.set(await this.auth.enrolTotp(this.challenge().mfaToken, code));
      this.mode.set('codes');
    } catch (e) {
      if (!this.expired(e)) {
        this.error.set(errorMessage(e));
        this.enrolment()?.clearCode();
      }
    } finally {
      this.busy.set(false);
    }
  }

  protected restart(): void {
    this.back.emit('');
  }

  /** A dead `mfaToken` (expired, used, or ended by wrong codes): the sign-in starts again. */
  private expired(e: unknown): boolean {
    const code: string | null = errorCode(e);
    if (code !== 'mfa_token_invalid') return false;
    this.back.emit(errorMessage(e));
    return true;
  }
}
