import { Component, OnInit, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';

import { AuthService, isMfaChallenge } from '../core/auth.service';
import { incompleteLink, errorMessage } from '../core/errors';
import { MfaChallenge } from '../core/api.models';
import { SecondFactor } from './second-factor';

/**
 * `/magic-link?token=…`, the page of a sign-in link: the token goes to the server as soon as
 * the page opens; the answer is a sign-in's (cookies), so the user lands where a sign-in
 * with a password would: the account console. For an account with a second factor, the answer is the
 * MFA challenge, and the page asks for the second step as the login page does.
 */
@Component({
  selector: 'app-magic-link',
  imports: [RouterLink, SecondFactor],
  templateUrl: './magic-link.html',
})
export class MagicLink implements OnInit {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);

  /** The link's `?token=`. */
  readonly token = input<string>();

  protected readonly error = signal('');
  protected readonly challenge = signal<MfaChallenge | null>(null);

  async ngOnInit(): Promise<void> {
    const token = this.token();
    if (!token) {
      this.error.set(incompleteLink());
      return;
    }
    try {
      const answer = await this.auth.signInWithLink(token);
      if (isMfaChallenge(answer)) {
        this.challenge.set(answer);
      } else {
        await this.signedIn();
      }
    } catch (e) {
      this.error.set(errorMessage(e));
    }
  }

  protected async signedIn(): Promise<void> {
    await this.router.navigateByUrl('/account', { replaceUrl: true });
  }

  /** The second step ended without a sign-in: the link is spent, so a new start is needed. */
  protected async restart(message: string): Promise<void> {
    this.challenge.set(null);
    if (message) {
      this.error.set(message);
    } else {
      await this.router.navigateByUrl('/login', { replaceUrl: true });
    }
  }
}
