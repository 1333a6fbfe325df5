import { HttpClient, HttpContext } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';

import { EXPECTS_401 } from './auth.service';
import { ConnectedApp, ConsentDecision, ConsentRedirect, OAuthRequestInfo } from './oauth-api';

/** The login page's `?reason=` when an application (or the server) wants a fresh sign-in. */
export const REAUTH_REASON = 'reauth';

/** The error `code` of a sign-in request that has expired or was already used. */
export const REQUEST_UNKNOWN = 'oauth_request_unknown';

/**
 * The OpenID Connect provider's pages for the signed-in user: the consent to a pending
 * sign-in request, and the applications allowed so far. (Registering clients is the
 * admin's: see AdminService.)
 */
@Injectable({ providedIn: 'root' })
export class OAuthService {
  private readonly http = inject(HttpClient);

  /**
   * The pending request: which application, which scopes. No session is needed; a 401 is the
   * consent page's to answer (it sends the user to sign in and back), not an ended session.
   */
  request(token: string): Observable<OAuthRequestInfo> {
    return this.http.get<OAuthRequestInfo>(`/api/oauth/requests/${encodeURIComponent(token)}`, expecting401());
  }

  /** Allows or denies the request; the answer says where the browser goes next. */
  decide(token: string, approve: boolean): Observable<ConsentRedirect> {
    const body: ConsentDecision = { approve };
    return this.http.post<ConsentRedirect>(
      `/api/oauth/requests/${encodeURIComponent(token)}`,
      body,
      expecting401(),
    );
  }

  /** The applications this account has allowed. */
  consents(): Observable<ConnectedApp[]> {
    return this.http.get<ConnectedApp[]>('/api/oauth/consents');
  }

  /** Takes an application's access away; the server also signs it out. */
  revokeConsent(clientId: string): Observable<void> {
    return this.http.delete<void>(`/api/oauth/consents/${encodeURIComponent(clientId)}`);
  }
}

function expecting401(): { context: HttpContext } {
  return { context: new HttpContext().set(EXPECTS_401, true) };
}
