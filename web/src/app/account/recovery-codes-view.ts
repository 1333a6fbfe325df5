import { Component, input, signal } from '@angular/core';

import { copyRecoveryCodes, downloadRecoveryCodes } from '../core/recovery-codes';

/** The recovery codes, shown once, with Copy and Download (.txt). */
@Component({
  selector: 'app-recovery-codes',
  templateUrl: './recovery-codes-view.html',
})
export class RecoveryCodesView {
  readonly codes = input.required<readonly string[]>();
  /** The account's name, in the file and its name. */
  readonly username = input('');

  protected readonly copied = signal<'yes' | 'refused' | null>(null);

  protected async copy(): Promise<void> {
    this.copied.set((await copyRecoveryCodes(this.codes(), this.username())) ? 'yes' : 'refused');
  }

  protected download(): void {
    downloadRecoveryCodes(this.codes(), this.username());
  }
}
