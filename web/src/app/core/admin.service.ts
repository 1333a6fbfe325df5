import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, map } from 'rxjs';

import { AdminUser, AuditEntry, MessageBody, Page } from './api.models';
import { CreatedOAuthClient, NewOAuthClient, OAuthClient, OAuthClientChange } from './oauth-api';

export interface UserChange {
  /** Role names as in sign-up: `user`, `moderator`, `admin`. */
  roles?: string[];
  disabled?: boolean;
}

/** The admin API: users, the audit log and the OpenID Connect clients. */
@Injectable({ providedIn: 'root' })
export class AdminService {
  private readonly http = inject(HttpClient);

  users(query: string, page: number, limit: number): Observable<Page<AdminUser>> {
    let params = new HttpParams().set('page', page).set('limit', limit);
    if (query.trim() !== '') {
      params = params.set('query', query.trim());
    }
    return this.http.get<Page<AdminUser>>('/api/admin/users', { params });
  }

  update(id: number, change: UserChange): Observable<AdminUser> {
    return this.http.patch<AdminUser>(`/api/admin/users/${id}`, change);
  }

  remove(id: number): Observable<void> {
    return this.http.delete<void>(`/api/admin/users/${id}`);
  }

  /** Removes the user's TOTP app, recovery codes and passkeys (a lost phone, say). */
  resetMfa(id: number): Observable<MessageBody> {
    return this.http.delete<MessageBody>(`/api/admin/users/${id}/mfa`);
  }

  audit(limit: number, before?: number): Observable<AuditEntry[]> {
    let params = new HttpParams().set('limit', limit);
    if (before !== undefined) {
      params = params.set('before', before);
    }
    return this.http
      .get<{ items: AuditEntry[] }>('/api/admin/audit', { params })
      .pipe(map((body) => body.items));
  }

  /** The registered OpenID Connect clients (relying parties). */
  clients(): Observable<OAuthClient[]> {
    return this.http.get<OAuthClient[]>('/api/admin/clients');
  }

  /** Registers a client; a confidential one's answer carries its secret, this once. */
  createClient(client: NewOAuthClient): Observable<CreatedOAuthClient> {
    return this.http.post<CreatedOAuthClient>('/api/admin/clients', client);
  }

  /** Changes what `change` names (nothing else); the answer is the client as it now is. */
  updateClient(clientId: string, change: OAuthClientChange): Observable<OAuthClient> {
    return this.http.patch<OAuthClient>(`/api/admin/clients/${encodeURIComponent(clientId)}`, change);
  }

  removeClient(clientId: string): Observable<void> {
    return this.http.delete<void>(`/api/admin/clients/${encodeURIComponent(clientId)}`);
  }
}
