import { Component, OnInit, inject, input, signal } from '@angular/core';
import { RouterLink } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { incompleteLink, errorMessage } from '../core/errors';
import { RecoveryService } from '../core/recovery.service';

/**
 * `/verify-email?token=…`, the page of a verification link (and of the link that confirms a
 * new address): the token goes to the server as soon as the page opens, and the answer is
 * shown. A signed-in user's account is asked for again, so the banner and profile follow.
 */
@Component({
  selector: 'app-verify-email',
  imports: [RouterLink],
  templateUrl: './verify-email.html',
})
export class VerifyEmail implements OnInit {
  protected readonly auth = inject(AuthService);
  private readonly recovery = inject(RecoveryService);

  /** The link's `?token=`. */
  readonly token = input<string>();

  protected readonly working = signal(true);
  protected readonly done = signal('');
  protected readonly error = signal('');

  ngOnInit(): void {
    const token = this.token();
    if (!token) {
      this.error.set(incompleteLink());
      this.working.set(false);
      return;
    }
    this.recovery.verifyEmail(token).subscribe({
      next: async (body) => {
        if (this.auth.signedIn()) await this.auth.load();
        this.done.set(body.message);
        this.working.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.working.set(false);
      },
    });
  }
}
