import { DatePipe } from '@angular/common';
import { Component, ElementRef, Injector, afterNextRender, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule } from '@angular/forms';

import { AdminService } from '../core/admin.service';
import { copyText } from '../core/clipboard';
import { errorMessage } from '../core/errors';
import { CreatedOAuthClient, OAuthClient, describeGrantType } from '../core/oauth-api';
import { ClientFields } from './client-fields';
import { ClientLogo } from './client-logo';
import { AdminNotices } from './notices';
import {
  ClientForm,
  buildClientForm,
  clientChange,
  describeLifetime,
  newClientBody,
} from './client-form';

export { lines } from './client-form';

/**
 * The OpenID Connect clients: the list (with each client's grants, token lifetime,
 * back-channel logout URI and PAR, DPoP and first-party badges), registering one (a
 * confidential client's secret is shown once, with a copy button), changing one (an Edit form
 * under its row, which sends only what changed) and deleting one after a confirmation. The
 * server checks the URIs, the algorithm and the settings; its message is shown as it says it.
 */
@Component({
  selector: 'app-oidc-clients',
  imports: [DatePipe, ReactiveFormsModule, ClientFields, ClientLogo],
  templateUrl: './oidc-clients.html',
  styleUrl: './admin-table.css',
})
export class OidcClients {
  private readonly admin = inject(AdminService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly notices = inject(AdminNotices);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly injector = inject(Injector);

  protected readonly describeGrant = describeGrantType;
  protected readonly describeLifetime = describeLifetime;
  /** The id of the Edit form, which its client's Edit button controls. */
  protected readonly editFormId = 'edit-client-form';
  protected readonly clients = signal<OAuthClient[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingDelete = signal<string | null>(null);

  protected readonly creating = signal(false);
  protected readonly createError = signal('');
  /** The client just made; its secret (if any) is shown this once, until dismissed. */
  protected readonly created = signal<CreatedOAuthClient | null>(null);
  protected readonly copied = signal<'yes' | 'refused' | null>(null);

  protected readonly form: ClientForm = buildClientForm(this.fb);

  /** The client whose Edit form is open (one at a time), and that form. */
  protected readonly editing = signal<string | null>(null);
  protected readonly editForm = signal<ClientForm | null>(null);
  protected readonly saving = signal(false);
  protected readonly editError = signal('');
  /** Save was pressed with nothing changed. */
  protected readonly unchanged = signal(false);

  constructor() {
    this.load();
  }

  protected load(): void {
    this.loading.set(true);
    this.admin.clients().subscribe({
      next: (items) => {
        this.clients.set(items);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.creating()) return;
    const client = newClientBody(this.form.getRawValue());
    this.creating.set(true);
    this.createError.set('');
    this.dismissCreated();
    this.admin.createClient(client).subscribe({
      next: (made) => {
        this.creating.set(false);
        this.created.set(made);
        // The list keeps no secret.
        const { clientSecret: _secret, ...listed } = made;
        this.clients.update((list) => [...list, listed]);
        this.form.reset();
        this.notices.say(
          made.clientSecret
            ? $localize`:@@clients.list.createdConfidentialNotice:Client ${made.name}:client: created: copy its secret now.`
            : $localize`:@@clients.list.createdPublicNotice:Public client ${made.name}:client: created.`,
          'clients-notice',
        );
      },
      error: (e: unknown) => {
        this.creating.set(false);
        this.createError.set(errorMessage(e));
      },
    });
  }

  protected async copySecret(): Promise<void> {
    const secret = this.created()?.clientSecret;
    if (!secret) return;
    this.copied.set((await copyText(secret)) ? 'yes' : 'refused');
  }

  /** Forgets the client just made, and so its secret. */
  protected dismissCreated(): void {
    this.created.set(null);
    this.copied.set(null);
  }

  /** Opens `client`'s Edit form (closing any other), filled with its registration. */
  protected edit(client: OAuthClient): void {
    this.editForm.set(buildClientForm(this.fb, client));
    this.editing.set(client.clientId);
    this.editError.set('');
    this.unchanged.set(false);
    this.confirmingDelete.set(null);
    this.focusSoon('#edit-client-name');
  }

  /** Closes the Edit form without saving; the focus goes back to its Edit button. */
  protected cancelEdit(): void {
    const clientId = this.editing();
    this.closeEdit();
    if (clientId !== null) this.focusEditButton(clientId);
  }

  /** Sends what differs from the client as listed (nothing, if nothing does). */
  /** A logo set or removed (saved at once): the list shows the client as it now is. */
  protected logoChanged(updated: OAuthClient): void {
    this.clients.update((list) => list.map((c) => (c.clientId === updated.clientId ? updated : c)));
  }

  protected save(client: OAuthClient): void {
    const form = this.editForm();
    if (!form || this.saving()) return;
    if (form.invalid) {
      form.markAllAsTouched();
      return;
    }
    const change = clientChange(client, form.getRawValue());
    this.editError.set('');
    if (Object.keys(change).length === 0) {
      this.unchanged.set(true);
      return;
    }
    this.unchanged.set(false);
    this.saving.set(true);
    this.error.set('');
    this.admin.updateClient(client.clientId, change).subscribe({
      next: (updated) => {
        this.saving.set(false);
        this.clients.update((list) => list.map((c) => (c.clientId === client.clientId ? updated : c)));
        this.closeEdit();
        this.notices.say($localize`:@@clients.list.saved:${updated.name}:client: saved.`, 'clients-notice');
        this.focusEditButton(client.clientId);
      },
      error: (e: unknown) => {
        this.saving.set(false);
        this.editError.set(errorMessage(e));
      },
    });
  }

  private closeEdit(): void {
    this.editing.set(null);
    this.editForm.set(null);
    this.editError.set('');
    this.unchanged.set(false);
  }

  protected remove(client: OAuthClient): void {
    this.confirmingDelete.set(null);
    this.busy.set(client.clientId);
    this.error.set('');
    this.admin.removeClient(client.clientId).subscribe({
      next: () => {
        this.busy.set(null);
        this.clients.update((list) => list.filter((c) => c.clientId !== client.clientId));
        if (this.created()?.clientId === client.clientId) this.dismissCreated();
        if (this.editing() === client.clientId) this.closeEdit();
        this.notices.say($localize`:@@clients.list.deleted:${client.name}:client: deleted.`, 'clients-notice');
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${client.name}: ${errorMessage(e)}`);
      },
    });
  }

  private focusEditButton(clientId: string): void {
    this.focusSoon((host) =>
      Array.from(host.querySelectorAll<HTMLElement>('tr[data-client-id]'))
        .find((row) => row.dataset['clientId'] === clientId)
        ?.querySelector<HTMLElement>('[data-testid="edit-client"]'),
    );
  }

  /** Focuses what `find` finds once the page has been rendered again. */
  private focusSoon(find: string | ((host: HTMLElement) => HTMLElement | null | undefined)): void {
    afterNextRender(
      () => {
        const host = this.host.nativeElement;
        (typeof find === 'string' ? host.querySelector<HTMLElement>(find) : find(host))?.focus();
      },
      { injector: this.injector },
    );
  }
}
