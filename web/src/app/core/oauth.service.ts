import { HttpClient, HttpContext, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';

import { LogoutConfirm, LogoutDone, LogoutRequestInfo } from './api.models';
import { EXPECTS_401 } from './auth.service';
import {
  ConnectedApp,
  ConsentDecision,
  ConsentRedirect,
  DeviceVerification,
  DeviceVerified,
  OAuthRequestInfo,
} from './oauth-api';

/** The login page's `?reason=` when an application (or the server) wants a fresh sign-in. */
export const REAUTH_REASON = 'reauth';

/** The error `code` of a sign-in request that has expired or was already used. */
export const REQUEST_UNKNOWN = 'oauth_request_unknown';

/** The error `code` of a device's user code that is unknown, expired or used (a 404). */
export const DEVICE_CODE_UNKNOWN = 'device_code_unknown';

/**
 * The OpenID Connect provider's pages for the signed-in user: the consent to a pending
 * sign-in request, an application's logout request, and the applications allowed so far.
 * (Registering clients is the admin's: see AdminService.)
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

  /**
   * The code shown on a device (RFC 8628), as the user typed it (the server ignores case and
   * the dash): the answer is the device's sign-in request, for the consent page. The session
   * is needed; a 401 is the device page's to answer (login, then back with the code).
   */
  verifyDevice(userCode: string): Observable<DeviceVerified> {
    const body: DeviceVerification = { userCode };
    return this.http.post<DeviceVerified>('/api/oauth/device', body, expecting401());
  }

  /**
   * An application's logout request (RP-initiated logout) that reached the server without
   * this browser's cookies: which application asks, and where the browser goes afterwards.
   * No session is needed; a 400 (`oauth_invalid_request`) is a request the server will not
   * honour.
   */
  logoutRequest(request: LogoutConfirm): Observable<LogoutRequestInfo> {
    let params = new HttpParams().set('id_token_hint', request.idTokenHint);
    if (request.postLogoutRedirectUri != null) {
      params = params.set('post_logout_redirect_uri', request.postLogoutRedirectUri);
    }
    if (request.state != null) params = params.set('state', request.state);
    return this.http.get<LogoutRequestInfo>('/api/oauth/logout/request', { params, ...expecting401() });
  }

  /**
   * The user confirmed the logout: this browser's session, if any, ends (the server clears
   * its cookies); the answer says where the browser goes next.
   */
  confirmLogout(request: LogoutConfirm): Observable<LogoutDone> {
    const body: LogoutConfirm = { idTokenHint: request.idTokenHint };
    if (request.postLogoutRedirectUri != null) body.postLogoutRedirectUri = request.postLogoutRedirectUri;
    if (request.state != null) body.state = request.state;
    return this.http.post<LogoutDone>('/api/oauth/logout/confirm', body, expecting401());
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
