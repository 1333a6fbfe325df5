import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, map } from 'rxjs';

import { IdentityItem, LinkStarted, ProviderButton } from './api.models';

/**
 * Signing in with another identity provider (docs/API.md §2, "Signing in with a provider"):
 * the enabled providers for the login page, where their sign-in starts, and the signed-in
 * account's identities at them (linking one, unlinking one).
 */
@Injectable({ providedIn: 'root' })
export class IdentityService {
  private readonly http = inject(HttpClient);

  /** The enabled providers, by id (maybe none). */
  providers(): Observable<ProviderButton[]> {
    return this.http
      .get<{ items: ProviderButton[] }>('/api/auth/providers')
      .pipe(map((body) => body.items));
  }

  /**
   * Where the browser goes to sign in with a provider: a page navigation, never a call (the
   * server answers 303 to the provider, with a cookie of its own for the way back).
   * `returnTo` is a path of this site to land on once signed in.
   */
  startUrl(providerId: string, returnTo: string): string {
    return `/api/auth/providers/${encodeURIComponent(providerId)}/start?returnTo=${encodeURIComponent(returnTo)}`;
  }

  /**
   * Begins linking an identity at the provider to the signed-in account: the answer says
   * where to send the browser. Without a recent sign-in the server answers 403
   * `reauthentication_required`: then again with `password`.
   */
  link(providerId: string, returnTo: string, password?: string): Observable<LinkStarted> {
    const body = password === undefined ? { returnTo } : { returnTo, password };
    return this.http.post<LinkStarted>(`/api/auth/providers/${encodeURIComponent(providerId)}/link`, body);
  }

  /** The signed-in account's identities at providers. */
  identities(): Observable<IdentityItem[]> {
    return this.http
      .get<{ items: IdentityItem[] }>('/api/auth/identities')
      .pipe(map((body) => body.items));
  }

  /**
   * Unlinks one of the account's identities (403 `reauthentication_required` without a recent
   * sign-in: then again with `password`; 409 `last_signin_method` for its only way to sign in).
   */
  unlink(identityId: number, password?: string): Observable<void> {
    return this.http.delete<void>(`/api/auth/identities/${identityId}`, {
      body: password === undefined ? null : { password },
    });
  }
}
