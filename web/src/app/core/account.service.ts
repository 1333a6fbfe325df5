import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, map, shareReplay } from 'rxjs';

import { ApiKeyItem, EmailChange, MessageBody, NewApiKey, Policy, SessionInfo } from './api.models';

/**
 * Sign-up, the validation policy and the signed-in account's own sessions, password,
 * address and API keys.
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

  /** The account's API keys, newest first (revoked and expired ones too). */
  apiKeys(): Observable<ApiKeyItem[]> {
    return this.http.get<{ items: ApiKeyItem[] }>('/api/auth/api-keys').pipe(map((body) => body.items));
  }

  /**
   * Makes a key; the answer's `key` is shown this once. Without a recent sign-in the server
   * answers 403 `reauthentication_required`: then again with `password`.
   */
  createApiKey(key: NewApiKey, password?: string): Observable<ApiKeyItem> {
    const body: NewApiKey = password === undefined ? key : { ...key, password };
    return this.http.post<ApiKeyItem>('/api/auth/api-keys', body);
  }

  revokeApiKey(id: number): Observable<void> {
    return this.http.delete<void>(`/api/auth/api-keys/${id}`);
  }
}
