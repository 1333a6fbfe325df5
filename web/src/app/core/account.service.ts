import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, map, shareReplay } from 'rxjs';

import { EmailChange, MessageBody, Policy, SessionInfo } from './api.models';

/**
 * Sign-up, the validation policy and the signed-in account's own sessions, password and
 * address.
 */
@Injectable({ providedIn: 'root' })
export class AccountService {
  private readonly http = inject(HttpClient);
  private policy$?: Observable<Policy>;

  /** The server's rules for usernames, emails and passwords (asked once, then cached). */
  policy(): Observable<Policy> {
    this.policy$ ??= this.http.get<Policy>('/api/auth/policy').pipe(shareReplay(1));
    return this.policy$;
  }

  signUp(username: string, email: string, password: string): Observable<MessageBody> {
    return this.http.post<MessageBody>('/api/auth/signup', { username, email, password });
  }

  sessions(): Observable<SessionInfo[]> {
    return this.http
      .get<{ items: SessionInfo[] }>('/api/auth/sessions')
      .pipe(map((body) => body.items));
  }

  endSession(id: string): Observable<void> {
    return this.http.delete<void>(`/api/auth/sessions/${encodeURIComponent(id)}`);
  }

  signOutEverywhere(): Observable<MessageBody> {
    return this.http.post<MessageBody>('/api/auth/signout-all', null);
  }

  changePassword(currentPassword: string, newPassword: string): Observable<MessageBody> {
    return this.http.post<MessageBody>('/api/auth/password', { currentPassword, newPassword });
  }

  /** Mails a link to the new address; the address changes once that link is opened. */
  changeEmail(currentPassword: string, newEmail: string): Observable<MessageBody> {
    const body: EmailChange = { currentPassword, newEmail };
    return this.http.post<MessageBody>('/api/auth/email', body);
  }
}
