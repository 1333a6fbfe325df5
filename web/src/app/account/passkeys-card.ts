import { DatePipe } from '@angular/common';
import { Component, inject, output, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

import { AccountService } from '../core/account.service';
import { errorMessage } from '../core/errors';
import { PasskeyItem } from '../core/api.models';
import { MfaService } from '../core/mfa.service';
import { Reauthentication } from '../core/reauth';
import { PasskeyCreationOptions, passkeyErrorMessage, passkeysSupported } from '../core/webauthn';
import { ReauthPrompt } from './reauth-prompt';

/** A passkey's name: 1 to 64 characters, as the server takes it. */
const NAME = [Validators.required, Validators.maxLength(64), Validators.pattern(/\S/)];

/**
 * The profile's passkeys: list, add (with a name), rename, remove. Adding is offered only
 * once the server's policy says passkeys are on; where they are off, the passkeys the account
 * has are still listed, renamed and removed.
 */
@Component({
  selector: 'app-passkeys-card',
  imports: [DatePipe, ReactiveFormsModule, ReauthPrompt],
  templateUrl: './passkeys-card.html',
})
export class PasskeysCard {
  private readonly mfa = inject(MfaService);
  private readonly fb = inject(NonNullableFormBuilder);

  /** A passkey was added or removed (the two-factor status counts them). */
  readonly changed = output<void>();

  protected readonly supported = passkeysSupported();
  /** The policy's `passkeys`: null until it is known (or if it cannot be), and no adding then. */
  protected readonly serverOn = signal<boolean | null>(null);
  protected readonly items = signal<PasskeyItem[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly notice = signal('');
  protected readonly adding = signal(false);
  protected readonly busy = signal<number | null>(null);
  protected readonly renaming = signal<number | null>(null);
  protected readonly confirmingRemove = signal<number | null>(null);
  protected readonly reauth = new Reauthentication();

  protected readonly addForm = this.fb.group({ name: [$localize`:@@account.passkeys.defaultName:Passkey`, NAME] });
  protected readonly renameForm = this.fb.group({ name: ['', NAME] });

  constructor() {
    this.load();
    // The profile asks for the policy too: AccountService asks the server once and shares it.
    inject(AccountService)
      .policy()
      .subscribe({
        next: (policy) => this.serverOn.set(policy.passkeys),
        error: () => undefined,
      });
  }

  load(): void {
    this.loading.set(true);
    this.mfa.passkeys().subscribe({
      next: (items) => {
        this.items.set(items);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  /**
   * Adds a passkey: the server's options (asking for the password when the sign-in is not
   * recent), then the browser's dialog and the server's check.
   */
  protected add(): void {
    if (this.addForm.invalid) {
      this.addForm.markAllAsTouched();
      return;
    }
    if (this.adding()) return;
    const name = this.addForm.getRawValue().name.trim();
    this.adding.set(true);
    this.error.set('');
    this.notice.set('');
    this.reauth.run($localize`:@@account.passkeys.reauthAdd:Add the passkey “${name}:name:”`, (password) => this.mfa.startPasskey(password), {
      next: (options) => void this.complete(options, name),
      error: (e) => {
        this.adding.set(false);
        this.error.set(passkeyErrorMessage(e));
      },
      asked: () => this.adding.set(false),
    });
  }

  private async complete(options: PasskeyCreationOptions, name: string): Promise<void> {
    this.adding.set(true);
    try {
      const item = await this.mfa.completePasskey(options, name);
      this.items.update((list) => [...list, item]);
      this.notice.set($localize`:@@account.passkeys.added:Passkey “${item.name}:name:” added.`);
      this.addForm.reset();
      this.changed.emit();
    } catch (e) {
      this.error.set(passkeyErrorMessage(e));
    } finally {
      this.adding.set(false);
    }
  }

  protected startRename(item: PasskeyItem): void {
    this.confirmingRemove.set(null);
    this.renameForm.setValue({ name: item.name });
    this.renaming.set(item.id);
  }

  protected rename(item: PasskeyItem): void {
    if (this.renameForm.invalid) {
      this.renameForm.markAllAsTouched();
      return;
    }
    this.busy.set(item.id);
    this.error.set('');
    this.notice.set('');
    this.mfa.renamePasskey(item.id, this.renameForm.getRawValue().name.trim()).subscribe({
      next: (updated) => {
        this.busy.set(null);
        this.renaming.set(null);
        this.items.update((list) => list.map((p) => (p.id === updated.id ? updated : p)));
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(errorMessage(e));
      },
    });
  }

  protected remove(item: PasskeyItem): void {
    this.confirmingRemove.set(null);
    this.busy.set(item.id);
    this.error.set('');
    this.notice.set('');
    this.reauth.run($localize`:@@account.passkeys.reauthRemove:Remove the passkey “${item.name}:name:”`, (password) => this.mfa.removePasskey(item.id, password), {
      next: (body) => {
        this.busy.set(null);
        this.items.update((list) => list.filter((p) => p.id !== item.id));
        this.notice.set(body?.message || $localize`:@@account.passkeys.removed:Passkey removed.`);
        this.changed.emit();
      },
      error: (e) => {
        this.busy.set(null);
        this.error.set(errorMessage(e));
      },
      asked: () => this.busy.set(null),
    });
  }
}
