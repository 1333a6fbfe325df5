import { HttpClient, HttpContext } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, firstValueFrom, map } from 'rxjs';

import { MessageBody, MfaStatus, PasskeyItem, PasskeyList, RecoveryCodes, TotpSetup } from './api.models';
import { EXPECTS_401 } from './auth.service';
import { PasskeyCreationOptions, PasskeyCredentialJSON, createPasskey } from './webauthn';

/**
 * The signed-in account's passkeys and second factors. Adding or removing a factor and new
 * recovery codes need a recent sign-in: without one the server answers 403
 * `reauthentication_required`, and the same call goes again with `password` (see
 * `Reauthentication`). Signing in itself (with a passkey, or a second step) is the
 * AuthService's.
 */
@Injectable({ providedIn: 'root' })
export class MfaService {
  private readonly http = inject(HttpClient);

  passkeys(): Observable<PasskeyItem[]> {
    return this.http.get<PasskeyList>('/api/auth/passkeys').pipe(map((body) => body.items));
  }

  /**
   * Starts registering a passkey: the server's options for the browser's dialog. Needs a
   * recent sign-in, or `password` (only this call: `completePasskey` then needs neither).
   */
  startPasskey(password?: string): Observable<PasskeyCreationOptions> {
    return this.http.post<PasskeyCreationOptions>('/api/auth/passkeys/register/start', passwordBody(password));
  }

  /**
   * Ends registering a passkey with `startPasskey`'s options: the browser's dialog, then the
   * server's check. Rejects with the browser's error (cancelled, already there…) or the
   * server's.
   */
  async completePasskey(options: PasskeyCreationOptions, name: string): Promise<PasskeyItem> {
    const credential = await createPasskey(options);
    return firstValueFrom(this.finishRegistration(credential, name));
  }

  finishRegistration(credential: PasskeyCredentialJSON, name: string): Observable<PasskeyItem> {
    return this.http.post<PasskeyItem>('/api/auth/passkeys/register/finish', { credential, name });
  }

  renamePasskey(id: number, name: string): Observable<PasskeyItem> {
    return this.http.patch<PasskeyItem>(`/api/auth/passkeys/${id}`, { name });
  }

  /** Needs a recent sign-in, or `password`. */
  removePasskey(id: number, password?: string): Observable<MessageBody> {
    return this.http.delete<MessageBody>(`/api/auth/passkeys/${id}`, { body: passwordBody(password) });
  }

  status(): Observable<MfaStatus> {
    return this.http.get<MfaStatus>('/api/auth/mfa');
  }

  /**
   * Starts (or restarts) enrolling a TOTP app for the signed-in account. Needs a recent
   * sign-in, or `password`.
   */
  setupTotp(password?: string): Observable<TotpSetup> {
    return this.http.post<TotpSetup>('/api/auth/mfa/totp/setup', passwordBody(password));
  }

  /**
   * Starts (or restarts) enrolling a TOTP app with the `mfaToken` of a sign-in that must
   * enrol first (no session yet: a 401 means the sign-in expired, not an ended session).
   */
  setupTotpForSignIn(mfaToken: string): Observable<TotpSetup> {
    return this.http.post<TotpSetup>(
      '/api/auth/mfa/totp/setup',
      { mfaToken },
      { context: new HttpContext().set(EXPECTS_401, true) },
    );
  }

  /**
   * A right code from the app enables it: the ten recovery codes, shown once. A wrong code
   * is a 400 (`mfa_code_invalid`), so it never reads as an ended session.
   */
  confirmTotp(code: string): Observable<RecoveryCodes> {
    return this.http.post<RecoveryCodes>('/api/auth/mfa/totp/confirm', { code });
  }

  /** Removes the TOTP app and its recovery codes. Needs a recent sign-in, or `password`. */
  removeTotp(password?: string): Observable<MessageBody> {
    return this.http.delete<MessageBody>('/api/auth/mfa/totp', { body: passwordBody(password) });
  }

  /** Ten new recovery codes replace the old ones. Needs a recent sign-in, or `password`. */
  newRecoveryCodes(password?: string): Observable<RecoveryCodes> {
    return this.http.post<RecoveryCodes>('/api/auth/mfa/recovery-codes', passwordBody(password));
  }
}

/** `{password}` when one is given; otherwise no body at all. */
function passwordBody(password: string | undefined): { password: string } | null {
  return password === undefined ? null : { password };
}
