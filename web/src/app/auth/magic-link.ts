import { Component, OnInit, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { INCOMPLETE_LINK, errorMessage } from '../core/errors';

/**
 * `/magic-link?token=…`, the page of a sign-in link: the token goes to the server as soon as
 * the page opens; the answer is a sign-in's (cookies), so the user lands where a sign-in
 * with a password would: the profile.
 */
@Component({
  selector: 'app-magic-link',
  imports: [RouterLink],
  templateUrl: './magic-link.html',
})
export class MagicLink implements OnInit {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);

  /** The link's `?token=`. */
  readonly token = input<string>();

  protected readonly error = signal('');

  async ngOnInit(): Promise<void> {
    const token = this.token();
    if (!token) {
      this.error.set(INCOMPLETE_LINK);
      return;
    }
    try {
      await this.auth.signInWithLink(token);
      await this.router.navigateByUrl('/profile', { replaceUrl: true });
    } catch (e) {
      this.error.set(errorMessage(e));
    }
  }
}
