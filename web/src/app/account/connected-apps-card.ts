import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';

import { errorMessage } from '../core/errors';
import { ConnectedApp, describeScope } from '../core/oauth-api';
import { OAuthService } from '../core/oauth.service';

/**
 * The profile's connected apps: the applications this account has allowed to use it (OpenID
 * Connect), with what they may know, and a way to take that away (after a confirmation),
 * which also signs the application out.
 */
@Component({
  selector: 'app-connected-apps-card',
  imports: [DatePipe],
  templateUrl: './connected-apps-card.html',
})
export class ConnectedAppsCard {
  private readonly oauth = inject(OAuthService);

  protected readonly items = signal<ConnectedApp[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly notice = signal('');
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingRevoke = signal<string | null>(null);
  protected readonly describe = describeScope;

  constructor() {
    this.load();
  }

  load(): void {
    this.loading.set(true);
    this.error.set('');
    this.oauth.consents().subscribe({
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

  protected revoke(app: ConnectedApp): void {
    this.confirmingRevoke.set(null);
    this.busy.set(app.clientId);
    this.error.set('');
    this.notice.set('');
    this.oauth.revokeConsent(app.clientId).subscribe({
      next: () => {
        this.busy.set(null);
        this.items.update((list) => list.filter((a) => a.clientId !== app.clientId));
        this.notice.set($localize`:@@account.connectedApps.revoked:${app.name}:app: no longer has access to your account.`);
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${app.name}: ${errorMessage(e)}`);
      },
    });
  }
}
