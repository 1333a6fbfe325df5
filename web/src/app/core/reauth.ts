import { signal } from '@angular/core';
import { Observable } from 'rxjs';

import { errorCode, errorMessage } from './errors';

/** What a call that may need a recent sign-in does with its answer. */
export interface ReauthHandlers<T> {
  next: (value: T) => void;
  /** Any failure other than a wrong password while the password is asked for. */
  error: (error: unknown) => void;
  /** The server wants the password: the call waits for `confirm(password)`. */
  asked?: () => void;
}

/** Errors that keep the password prompt open: the user can try again. */
const RETRYABLE = new Set(['wrong_password', 'reauthentication_required', 'too_many_attempts']);

/**
 * A call that needs a recent sign-in (adding or removing a passkey or the TOTP app, new
 * recovery codes): it goes first without a password; on 403 `reauthentication_required` the prompt
 * (`pending`, a label of what it is for) asks for the password, and `confirm` sends the same
 * call again with `{password}`. A wrong password keeps the prompt open with the server's
 * words (`error`). One call at a time: a new `run` drops a pending one.
 */
export class Reauthentication {
  /** What the password is asked for, while it is; null otherwise. */
  readonly pending = signal<string | null>(null);
  readonly busy = signal(false);
  readonly error = signal('');
  private retry?: (password: string) => void;

  run<T>(label: string, call: (password?: string) => Observable<T>, handlers: ReauthHandlers<T>): void {
    this.cancel();
    call().subscribe({
      next: handlers.next,
      error: (e: unknown) => {
        const code: string | null = errorCode(e);
        if (code !== 'reauthentication_required') {
          handlers.error(e);
          return;
        }
        this.pending.set(label);
        handlers.asked?.();
        this.retry = (password) => {
          this.busy.set(true);
          this.error.set('');
          call(password).subscribe({
            next: (value) => {
              this.cancel();
              handlers.next(value);
            },
            error: (again: unknown) => {
              this.busy.set(false);
              const againCode: string | null = errorCode(again);
              if (againCode !== null && RETRYABLE.has(againCode)) {
                this.error.set(errorMessage(again));
              } else {
                this.cancel();
                handlers.error(again);
              }
            },
          });
        };
      },
    });
  }

  /** Sends the pending call again with the password. */
  confirm(password: string): void {
    if (!this.busy()) this.retry?.(password);
  }

  /** Drops the pending call. */
  cancel(): void {
    this.retry = undefined;
    this.pending.set(null);
    this.error.set('');
    this.busy.set(false);
  }
}
