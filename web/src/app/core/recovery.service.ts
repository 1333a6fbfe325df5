import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';

import { EmailRequest, MessageBody, ResetConfirm, TokenRequest } from './api.models';

/**
 * What works by mailed links: asking for a reset or sign-in link, using a reset link,
 * proving an address, asking for a verification link again. (Signing in with a sign-in
 * link is the AuthService's, as every sign-in is.)
 */
@Injectable({ providedIn: 'root' })
export class RecoveryService {
  private readonly http = inject(HttpClient);

  /** The answer is the same whether or not an account has the address. */
  requestReset(email: string): Observable<MessageBody> {
    const body: EmailRequest = { email };
    return this.http.post<MessageBody>('/api/auth/password-reset', body);
  }

  confirmReset(token: string, newPassword: string): Observable<MessageBody> {
    const body: ResetConfirm = { token, newPassword };
    return this.http.post<MessageBody>('/api/auth/password-reset/confirm', body);
  }

  /** The answer is the same whether or not an account has the address. */
  requestSignInLink(email: string): Observable<MessageBody> {
    const body: EmailRequest = { email };
    return this.http.post<MessageBody>('/api/auth/magic-link', body);
  }

  /** Proves an address, or (for a link mailed to a new one) makes it the account's. */
  verifyEmail(token: string): Observable<MessageBody> {
    const body: TokenRequest = { token };
    return this.http.post<MessageBody>('/api/auth/verify-email', body);
  }

  /** A new verification link for the signed-in account. */
  resendVerification(): Observable<MessageBody> {
    return this.http.post<MessageBody>('/api/auth/verify-email/resend', null);
  }
}
