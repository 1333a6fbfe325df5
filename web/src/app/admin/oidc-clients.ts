import { DatePipe } from '@angular/common';
import { Component, inject, signal } from '@angular/core';
import {
  AbstractControl,
  NonNullableFormBuilder,
  ReactiveFormsModule,
  ValidationErrors,
  Validators,
} from '@angular/forms';

import { AdminService } from '../core/admin.service';
import { copyText } from '../core/clipboard';
import { errorMessage } from '../core/errors';
import {
  CreatedOAuthClient,
  DEFAULT_ID_TOKEN_ALG,
  ID_TOKEN_ALGS,
  IdTokenAlg,
  NewOAuthClient,
  OAUTH_SCOPES,
  OAuthClient,
} from '../core/oauth-api';

/** A textarea's lines, trimmed, without the empty ones. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** At least one non-empty line. */
function someLine(control: AbstractControl<string>): ValidationErrors | null {
  return lines(control.value).length > 0 ? null : { required: true };
}

/**
 * The OpenID Connect clients: the list, registering one (a confidential client's secret is
 * shown once, with a copy button) and deleting one after a confirmation. The server checks
 * the redirect URIs and the ID token algorithm; its message is shown as it says it.
 */
@Component({
  selector: 'app-oidc-clients',
  imports: [DatePipe, ReactiveFormsModule],
  templateUrl: './oidc-clients.html',
})
export class OidcClients {
  private readonly admin = inject(AdminService);
  private readonly fb = inject(NonNullableFormBuilder);

  protected readonly SCOPES = OAUTH_SCOPES;
  protected readonly ID_TOKEN_ALGS = ID_TOKEN_ALGS;
  protected readonly DEFAULT_ID_TOKEN_ALG = DEFAULT_ID_TOKEN_ALG;
  protected readonly clients = signal<OAuthClient[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly notice = signal('');
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingDelete = signal<string | null>(null);

  protected readonly creating = signal(false);
  protected readonly createError = signal('');
  /** The client just made; its secret (if any) is shown this once, until dismissed. */
  protected readonly created = signal<CreatedOAuthClient | null>(null);
  protected readonly copied = signal<'yes' | 'refused' | null>(null);

  protected readonly form = this.fb.group({
    name: ['', [Validators.required, Validators.pattern(/\S/)]],
    redirectUris: ['', someLine],
    postLogoutRedirectUris: [''],
    public: [false],
    /** Sent always, so the client gets what the form shows (RS256 unless changed). */
    idTokenSignedResponseAlg: [DEFAULT_ID_TOKEN_ALG as IdTokenAlg],
    scopes: this.fb.group({
      openid: [true],
      profile: [true],
      email: [true],
      roles: [true],
      offline_access: [true],
    }),
  });

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

  protected showErrors(control: AbstractControl): boolean {
    return control.invalid && (control.dirty || control.touched);
  }

  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.creating()) return;
    const value = this.form.getRawValue();
    const client: NewOAuthClient = {
      name: value.name.trim(),
      redirectUris: lines(value.redirectUris),
      postLogoutRedirectUris: lines(value.postLogoutRedirectUris),
      public: value.public,
      scopes: OAUTH_SCOPES.filter((scope) => value.scopes[scope]),
      idTokenSignedResponseAlg: value.idTokenSignedResponseAlg,
    };
    this.creating.set(true);
    this.createError.set('');
    this.notice.set('');
    this.dismissCreated();
    this.admin.createClient(client).subscribe({
      next: (made) => {
        this.creating.set(false);
        this.created.set(made);
        // The list keeps no secret.
        const { clientSecret: _secret, ...listed } = made;
        this.clients.update((list) => [...list, listed]);
        this.form.reset();
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

  protected remove(client: OAuthClient): void {
    this.confirmingDelete.set(null);
    this.busy.set(client.clientId);
    this.error.set('');
    this.notice.set('');
    this.admin.removeClient(client.clientId).subscribe({
      next: () => {
        this.busy.set(null);
        this.clients.update((list) => list.filter((c) => c.clientId !== client.clientId));
        if (this.created()?.clientId === client.clientId) this.dismissCreated();
        this.notice.set(`${client.name} deleted.`);
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${client.name}: ${errorMessage(e)}`);
      },
    });
  }
}
