import { Component, inject, input } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

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
}
