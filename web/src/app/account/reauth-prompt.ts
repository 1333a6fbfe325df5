import { Component, inject, input } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { Reauthentication } from '../core/reauth';

/**
 * The small inline form that asks for the password when the server wants a recent sign-in
 * (`reauthentication_required`); it sends the pending call again with it.
 */
@Component({
  selector: 'app-reauth-prompt',
  imports: [ReactiveFormsModule],
  templateUrl: './reauth-prompt.html',
})
export class ReauthPrompt {
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly gate = input.required<Reauthentication>();
  /** Unique per page: the input's id. */
  readonly inputId = input('reauth-password');

  protected readonly form = inject(NonNullableFormBuilder).group({
    password: ['', Validators.required],
  });

  protected submit(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    const { password } = this.form.getRawValue();
    this.form.reset();
    this.gate().confirm(password);
  }

  protected cancel(): void {
    this.form.reset();
    this.gate().cancel();
  }

  /**
   * For an account with no password (made with a passkey, or by another provider): a fresh
   * sign-in is the confirmation, so sign out and come back here signed in anew.
   */
  protected async signInAgain(): Promise<void> {
    const back = this.router.url;
    this.gate().cancel();
    try {
      await this.auth.signOut();
    } catch {
      // Forgotten here either way; the cookies expire on their own.
    }
    await this.router.navigate(['/login'], { queryParams: { returnUrl: back } });
  }
}
