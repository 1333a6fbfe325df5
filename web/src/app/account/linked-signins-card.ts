import { DOCUMENT, DatePipe } from '@angular/common';
import { Component, computed, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';

import { IdentityItem, ProviderButton } from '../core/api.models';
import { errorMessage } from '../core/errors';
import { ExternalNavigation } from '../core/external-navigation';
import { IdentityService } from '../core/identity.service';
import { providerErrorMessage, rememberProvider, takeRememberedProvider } from '../core/provider-errors';
import { Reauthentication } from '../core/reauth';
import { ReauthPrompt } from './reauth-prompt';

/** Where linking comes back to: this page. */
export const LINK_RETURN = '/account/linked';

/**
 * The account's sign-ins at other identity providers: the identities linked to the account
 * (the provider, the email it gave, when it last signed in), each with Unlink; and "Link …"
 * for each enabled provider not linked yet, which sends the browser to the provider and back
 * here. Both need a recent sign-in, or the password. A link that failed comes back as
 * `?error=<code>` (the login page's guard sends it here), said in a sentence.
 */
@Component({
  selector: 'app-linked-signins-card',
  imports: [DatePipe, ReauthPrompt],
  templateUrl: './linked-signins-card.html',
})
export class LinkedSigninsCard {
  private readonly identity = inject(IdentityService);
  private readonly navigation = inject(ExternalNavigation);
  private readonly document = inject(DOCUMENT);

  protected readonly items = signal<IdentityItem[]>([]);
  protected readonly providers = signal<ProviderButton[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly notice = signal('');
  /** The identity being unlinked, or the provider being linked. */
  protected readonly busy = signal<number | string | null>(null);
  protected readonly confirmingUnlink = signal<number | null>(null);
  protected readonly reauth = new Reauthentication();

  /** The enabled providers the account has no identity at yet. */
  protected readonly linkable = computed(() => {
    const linked = new Set(this.items().map((i) => i.provider));
    return this.providers().filter((p) => !linked.has(p.id));
  });

  constructor() {
    const route = inject(ActivatedRoute);
    const code = route.snapshot.queryParamMap.get('error');
    if (code) {
      this.error.set(providerErrorMessage(code, takeRememberedProvider(this.document.defaultView?.sessionStorage)));
      // Said once: a reload does not say it again.
      void inject(Router).navigate([], {
        relativeTo: route,
        queryParams: { error: null },
        queryParamsHandling: 'merge',
        replaceUrl: true,
      });
    }
    this.load();
    this.identity.providers().subscribe({
      next: (items) => this.providers.set(items),
      error: () => undefined,
    });
  }

  load(): void {
    this.loading.set(true);
    this.identity.identities().subscribe({
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

  /** The provider's name as it is now, or its id once it is gone. */
  protected providerName(item: IdentityItem): string {
    return item.providerName ?? item.provider;
  }

  /** Asks the server for the provider's address (after the password, if it wants it), and goes. */
  protected link(provider: ProviderButton): void {
    if (this.busy() !== null) return;
    this.busy.set(provider.id);
    this.error.set('');
    this.notice.set('');
    const storage = this.document.defaultView?.sessionStorage;
    this.reauth.run($localize`:@@account.linkedSignins.reauthLink:Link ${provider.displayName}:provider:`, (password) => this.identity.link(provider.id, LINK_RETURN, password), {
      next: (started) => {
        rememberProvider(storage, provider.displayName);
        if (!this.navigation.assign(started.redirectTo)) {
          this.busy.set(null);
          this.error.set($localize`:@@account.linkedSignins.badAddress:${provider.displayName}:provider:: the server gave an address no page may go to.`);
        }
      },
      error: (e) => {
        this.busy.set(null);
        this.error.set(`${provider.displayName}: ${errorMessage(e)}`);
      },
      asked: () => this.busy.set(null),
    });
  }

  protected unlink(item: IdentityItem): void {
    const name = this.providerName(item);
    this.confirmingUnlink.set(null);
    this.busy.set(item.id);
    this.error.set('');
    this.notice.set('');
    this.reauth.run($localize`:@@account.linkedSignins.reauthUnlink:Unlink ${name}:provider:`, (password) => this.identity.unlink(item.id, password), {
      next: () => {
        this.busy.set(null);
        this.items.update((list) => list.filter((i) => i.id !== item.id));
        this.notice.set($localize`:@@account.linkedSignins.unlinked:${name}:provider: is unlinked: it no longer signs you in.`);
      },
      error: (e) => {
        this.busy.set(null);
        // 409 `last_signin_method` included: the server says what to do first.
        this.error.set(`${name}: ${errorMessage(e)}`);
      },
      asked: () => this.busy.set(null),
    });
  }
}
