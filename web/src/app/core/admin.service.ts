import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { Observable, map, tap } from 'rxjs';

import {
  AdminUser,
  ApiKeyItem,
  AuditEntry,
  GroupChange,
  GroupItem,
  IdentityItem,
  MemberPage,
  MessageBody,
  NewApiKey,
  NewGroup,
  NewPermission,
  NewProvider,
  NewRole,
  NewServiceAccount,
  Page,
  PermissionItem,
  ProviderChange,
  ProviderItem,
  RoleChange,
  RoleItem,
  ServiceAccountItem,
  UserRights,
} from './api.models';
import { CreatedOAuthClient, NewOAuthClient, OAuthClient, OAuthClientChange } from './oauth-api';

export interface UserChange {
  /**
   * The account's own roles, by name: `user`, `moderator`, `admin` or any defined role
   * (`user` is always kept). Replaces its own roles, not those its groups carry.
   */
  roles?: string[];
  disabled?: boolean;
}

/** `?cascade=true`: take it from whatever holds it, instead of a 409 `in_use`. */
function cascadeParams(cascade: boolean): HttpParams {
  return cascade ? new HttpParams().set('cascade', true) : new HttpParams();
}

const segment = encodeURIComponent;

/**
 * The admin API: users (with their rights, API keys and identities at providers), the audit
 * log, the OpenID Connect clients, roles, permissions, groups and service accounts, and the
 * identity providers people may sign in with.
 */
@Injectable({ providedIn: 'root' })
export class AdminService {
  private readonly http = inject(HttpClient);
  private readonly changeCount = signal(0);

  /**
   * Counts the changes made through this service (and those `noteChange` reports) that the
   * server accepted: whatever shows the audit log reloads when it moves.
   */
  readonly changes = this.changeCount.asReadonly();

  /** For changes made elsewhere (the branding page's own API), so the audit log follows. */
  noteChange(): void {
    this.changeCount.update((n) => n + 1);
  }

  private changing<T>(request: Observable<T>): Observable<T> {
    return request.pipe(tap(() => this.noteChange()));
  }

  users(query: string, page: number, limit: number): Observable<Page<AdminUser>> {
    let params = new HttpParams().set('page', page).set('limit', limit);
    if (query.trim() !== '') {
      params = params.set('query', query.trim());
    }
    return this.http.get<Page<AdminUser>>('/api/admin/users', { params });
  }

  update(id: number, change: UserChange): Observable<AdminUser> {
    return this.changing(this.http.patch<AdminUser>(`/api/admin/users/${id}`, change));
  }

  remove(id: number): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/users/${id}`));
  }

  /** Removes the user's TOTP app, recovery codes and passkeys (a lost phone, say). */
  resetMfa(id: number): Observable<MessageBody> {
    return this.changing(this.http.delete<MessageBody>(`/api/admin/users/${id}/mfa`));
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
    return this.changing(this.http.post<CreatedOAuthClient>('/api/admin/clients', client));
  }

  /** Changes what `change` names (nothing else); the answer is the client as it now is. */
  updateClient(clientId: string, change: OAuthClientChange): Observable<OAuthClient> {
    return this.changing(this.http.patch<OAuthClient>(`/api/admin/clients/${encodeURIComponent(clientId)}`, change));
  }

  /** Sets a client's logo: the file's bytes as they are, with its type. */
  setClientLogo(clientId: string, file: Blob): Observable<OAuthClient> {
    const headers = { 'Content-Type': file.type };
    return this.changing(
      this.http.put<OAuthClient>(`/api/admin/clients/${encodeURIComponent(clientId)}/logo`, file, { headers }),
    );
  }

  removeClientLogo(clientId: string): Observable<OAuthClient> {
    return this.changing(this.http.delete<OAuthClient>(`/api/admin/clients/${encodeURIComponent(clientId)}/logo`));
  }

  removeClient(clientId: string): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/clients/${encodeURIComponent(clientId)}`));
  }

  /** Every role: the built-in three, then those admins defined, by name. */
  roles(): Observable<RoleItem[]> {
    return this.http.get<{ items: RoleItem[] }>('/api/admin/roles').pipe(map((body) => body.items));
  }

  createRole(role: NewRole): Observable<RoleItem> {
    return this.changing(this.http.post<RoleItem>('/api/admin/roles', role));
  }

  updateRole(name: string, change: RoleChange): Observable<RoleItem> {
    return this.changing(this.http.patch<RoleItem>(`/api/admin/roles/${segment(name)}`, change));
  }

  /** A 409 `in_use` while an account or group holds it, unless `cascade`. */
  removeRole(name: string, cascade = false): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/roles/${segment(name)}`, { params: cascadeParams(cascade) }));
  }

  permissions(): Observable<PermissionItem[]> {
    return this.http
      .get<{ items: PermissionItem[] }>('/api/admin/permissions')
      .pipe(map((body) => body.items));
  }

  createPermission(permission: NewPermission): Observable<PermissionItem> {
    return this.changing(this.http.post<PermissionItem>('/api/admin/permissions', permission));
  }

  /** A 409 `in_use` while a role gives it, unless `cascade`. */
  removePermission(name: string, cascade = false): Observable<void> {
    return this.changing(
      this.http.delete<void>(`/api/admin/permissions/${segment(name)}`, { params: cascadeParams(cascade) }),
    );
  }

  groups(): Observable<GroupItem[]> {
    return this.http.get<{ items: GroupItem[] }>('/api/admin/groups').pipe(map((body) => body.items));
  }

  createGroup(group: NewGroup): Observable<GroupItem> {
    return this.changing(this.http.post<GroupItem>('/api/admin/groups', group));
  }

  updateGroup(name: string, change: GroupChange): Observable<GroupItem> {
    return this.changing(this.http.patch<GroupItem>(`/api/admin/groups/${segment(name)}`, change));
  }

  removeGroup(name: string): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/groups/${segment(name)}`));
  }

  /** A page of the group's members, by username. */
  members(group: string, page: number, limit: number): Observable<MemberPage> {
    const params = new HttpParams().set('page', page).set('limit', limit);
    return this.http.get<MemberPage>(`/api/admin/groups/${segment(group)}/members`, { params });
  }

  /** Puts the user in the group (204; idempotent). */
  addMember(group: string, userId: number): Observable<void> {
    return this.changing(this.http.put<void>(`/api/admin/groups/${segment(group)}/members/${userId}`, null));
  }

  removeMember(group: string, userId: number): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/groups/${segment(group)}/members/${userId}`));
  }

  /** The user's roles (and where each comes from), groups and permissions. */
  rights(userId: number): Observable<UserRights> {
    return this.http.get<UserRights>(`/api/admin/users/${userId}/rights`);
  }

  createServiceAccount(account: NewServiceAccount): Observable<ServiceAccountItem> {
    return this.changing(this.http.post<ServiceAccountItem>('/api/admin/service-accounts', account));
  }

  /** Any account's API keys, newest first. */
  apiKeys(userId: number): Observable<ApiKeyItem[]> {
    return this.http
      .get<{ items: ApiKeyItem[] }>(`/api/admin/users/${userId}/api-keys`)
      .pipe(map((body) => body.items));
  }

  /** Makes a key for a service account; the answer's `key` is shown this once. */
  createApiKey(userId: number, key: NewApiKey): Observable<ApiKeyItem> {
    return this.changing(this.http.post<ApiKeyItem>(`/api/admin/users/${userId}/api-keys`, key));
  }

  revokeApiKey(userId: number, keyId: number): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/users/${userId}/api-keys/${keyId}`));
  }

  /** The account's identities at providers. */
  userIdentities(userId: number): Observable<IdentityItem[]> {
    return this.http
      .get<{ items: IdentityItem[] }>(`/api/admin/users/${userId}/identities`)
      .pipe(map((body) => body.items));
  }

  /** Unlinks an account's identity, even its last way to sign in. */
  removeUserIdentity(userId: number, identityId: number): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/users/${userId}/identities/${identityId}`));
  }

  /** Every identity provider, by id. */
  providers(): Observable<ProviderItem[]> {
    return this.http.get<{ items: ProviderItem[] }>('/api/admin/providers').pipe(map((body) => body.items));
  }

  createProvider(provider: NewProvider): Observable<ProviderItem> {
    return this.changing(this.http.post<ProviderItem>('/api/admin/providers', provider));
  }

  /** Changes what `change` names (nothing else); the answer is the provider as it now is. */
  updateProvider(id: string, change: ProviderChange): Observable<ProviderItem> {
    return this.changing(this.http.patch<ProviderItem>(`/api/admin/providers/${segment(id)}`, change));
  }

  /** A 409 `in_use` while accounts have identities at it, unless `cascade` (which unlinks them). */
  removeProvider(id: string, cascade = false): Observable<void> {
    return this.changing(this.http.delete<void>(`/api/admin/providers/${segment(id)}`, { params: cascadeParams(cascade) }));
  }
}
