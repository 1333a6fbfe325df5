import { Component, inject, input, output, signal } from '@angular/core';

import { AdminService } from '../core/admin.service';
import { errorMessage } from '../core/errors';
import { OAuthClient } from '../core/oauth-api';
import { LOGO_MAX_BYTES, LOGO_TYPES } from './branding-api';
import { AdminNotices } from './notices';

/**
 * A client's own logo, which its users see beside its name on the sign-in and consent
 * pages: shown, replaced from a file (PNG, JPEG, WebP or SVG, checked here as the server
 * checks it), or removed. Saved at once, apart from the client's other settings.
 */
@Component({
  selector: 'app-client-logo',
  template: `
    <fieldset class="border rounded p-2 mb-3" data-testid="client-logo-field">
      <legend class="fs-6 float-none w-auto px-1 mb-1" i18n="@@clients.logo.legend">Logo</legend>
      <div class="d-flex flex-wrap align-items-center gap-2">
        @if (client().logoUrl; as logo) {
          <img [src]="logo" alt="The current logo" i18n-alt="@@clients.logo.currentAlt" height="40" class="border rounded bg-white p-1" data-testid="client-logo-current" />
        } @else {
          <span class="text-body-secondary small" data-testid="client-logo-none" i18n="@@clients.logo.none">No logo: the pages show the name alone.</span>
        }
        <label class="visually-hidden" [for]="inputId()" i18n="@@clients.logo.fileLabel">A logo file for {{ client().name }}</label>
        <input
          type="file"
          class="form-control form-control-sm w-auto"
          [id]="inputId()"
          [accept]="types"
          (change)="choose($event)"
          [disabled]="busy()"
          data-testid="client-logo-file"
        />
        @if (client().logoUrl) {
          <button type="button" class="btn btn-outline-danger btn-sm" (click)="remove()" [disabled]="busy()" data-testid="client-logo-remove" i18n="@@clients.logo.remove">Remove the logo</button>
        }
      </div>
      <p class="form-text mb-0" i18n="@@clients.logo.help">PNG, JPEG, WebP or SVG, at most 64 KiB. Saved as soon as it is chosen.</p>
      @if (error()) {
        <div class="alert alert-danger mt-2 mb-0" role="alert" data-testid="client-logo-error">{{ error() }}</div>
      }
    </fieldset>
  `,
})
export class ClientLogo {
  private readonly admin = inject(AdminService);
  private readonly notices = inject(AdminNotices);
  readonly client = input.required<OAuthClient>();
  /** The client as the server now has it, after a change. */
  readonly changed = output<OAuthClient>();
  protected readonly busy = signal(false);
  protected readonly error = signal('');
  protected readonly types = LOGO_TYPES.join(',');

  protected inputId(): string {
    return `client-logo-${this.client().clientId}`;
  }

  protected choose(event: Event): void {
    const field = event.target as HTMLInputElement;
    const file = field.files?.[0];
    if (!file) return;
    field.value = '';
    if (!LOGO_TYPES.includes(file.type)) {
      this.error.set($localize`:@@clients.logo.wrongType:The logo must be a PNG, JPEG, WebP or SVG image.`);
      return;
    }
    if (file.size > LOGO_MAX_BYTES) {
      this.error.set($localize`:@@clients.logo.tooBig:The logo must be at most 64 KiB.`);
      return;
    }
    this.run(this.admin.setClientLogo(this.client().clientId, file), (c) => $localize`:@@clients.logo.saved:${c.name}:client: has a new logo.`);
  }

  protected remove(): void {
    this.run(this.admin.removeClientLogo(this.client().clientId), (c) => $localize`:@@clients.logo.removed:${c.name}:client: has no logo now.`);
  }

  private run(request: ReturnType<AdminService['removeClientLogo']>, said: (c: OAuthClient) => string): void {
    this.busy.set(true);
    this.error.set('');
    request.subscribe({
      next: (client) => {
        this.busy.set(false);
        this.changed.emit(client);
        this.notices.say(said(client), 'clients-notice');
      },
      error: (e: unknown) => {
        this.busy.set(false);
        this.error.set(errorMessage(e));
      },
    });
  }
}
