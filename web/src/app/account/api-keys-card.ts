import { DatePipe } from '@angular/common';
import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Observable } from 'rxjs';

import { AccountService } from '../core/account.service';
import { AdminService } from '../core/admin.service';
import { ApiKeyItem, NewApiKey, roleName } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { copyText } from '../core/clipboard';
import { errorMessage } from '../core/errors';
import { Reauthentication } from '../core/reauth';
import { ReauthPrompt } from './reauth-prompt';

/** A key's lifetime in days: 1 to 365, 90 unless changed (as the server has it). */
export const KEY_DAYS_MIN = 1;
export const KEY_DAYS_MAX = 365;
export const KEY_DAYS_DEFAULT = 90;

/** What a key may be given: roles (by name, `user` left out: every key has it) and permissions. */
export interface KeyChoices {
  roles: string[];
  permissions: string[];
}

/** Whether a key still works: `revoked`, `expired` or `active`. */
export function keyStatus(key: ApiKeyItem, now: number = Date.now()): 'revoked' | 'expired' | 'active' {
  if (key.revokedAt) return 'revoked';
  return Date.parse(key.expiresAt) <= now ? 'expired' : 'active';
}

/**
 * API keys: the list (name, prefix, roles and permissions, created, expires, last used,
 * revoked), a new key (a name, its lifetime, some of the owner's roles and permissions),
 * shown once with a copy button, and revoking one after a confirmation. A key outlives the
 * session, so making one's own asks for the password when the sign-in is not recent.
 *
 * Without `userId` these are the signed-in account's own keys (`/api/auth/api-keys`), to be
 * given what `GET /api/auth/me` says the account holds. With it, an admin's view of that
 * account's keys (`/api/admin/users/{id}/api-keys`, a service account's), to be given what
 * its rights hold.
 */
@Component({
  selector: 'app-api-keys-card',
  imports: [DatePipe, ReactiveFormsModule, ReauthPrompt],
  templateUrl: './api-keys-card.html',
})
export class ApiKeysCard implements OnInit {
  private readonly account = inject(AccountService);
  private readonly admin = inject(AdminService);
  private readonly auth = inject(AuthService);
  private readonly fb = inject(NonNullableFormBuilder);

  /** The account whose keys an admin manages; none: the signed-in account's own. */
  readonly userId = input<number | null>(null);
  /** That account's username, for the heading. */
  readonly username = input('');
  /** The start of the form's ids (one card per page each). */
  readonly prefix = input('api-key');

  protected readonly items = signal<ApiKeyItem[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly notice = signal('');
  protected readonly busy = signal<number | null>(null);
  protected readonly confirmingRevoke = signal<number | null>(null);
  protected readonly creating = signal(false);
  protected readonly createError = signal('');
  /** The key just made: its secret is shown this once, until dismissed. */
  protected readonly created = signal<ApiKeyItem | null>(null);
  protected readonly copied = signal<'yes' | 'refused' | null>(null);
  protected readonly status = keyStatus;
  protected readonly reauth = new Reauthentication();

  /** What the account holds, for an admin's view (from its rights). */
  private readonly held = signal<KeyChoices>({ roles: [], permissions: [] });
  protected readonly choices = computed<KeyChoices>(() => {
    if (this.userId() !== null) return this.held();
    const me = this.auth.user();
    return {
      roles: (me?.roles ?? []).map(roleName).filter((name) => name !== 'user'),
      permissions: [...(me?.permissions ?? [])],
    };
  });
  protected readonly pickedRoles = signal<ReadonlySet<string>>(new Set());
  protected readonly pickedPermissions = signal<ReadonlySet<string>>(new Set());

  protected readonly form = this.fb.group({
    name: ['', [Validators.required, Validators.maxLength(64), Validators.pattern(/\S/)]],
    expiresInDays: [
      KEY_DAYS_DEFAULT,
      [Validators.required, Validators.min(KEY_DAYS_MIN), Validators.max(KEY_DAYS_MAX)],
    ],
  });
  protected readonly DAYS_MIN = KEY_DAYS_MIN;
  protected readonly DAYS_MAX = KEY_DAYS_MAX;

  ngOnInit(): void {
    this.load();
    const id = this.userId();
    if (id !== null) {
      this.admin.rights(id).subscribe({
        next: (rights) =>
          this.held.set({
            roles: rights.roles.filter((r) => !r.clientId && r.name !== 'user').map((r) => r.name),
            permissions: rights.permissions.filter((p) => !p.clientId).map((p) => p.name),
          }),
        error: (e: unknown) => this.error.set(errorMessage(e)),
      });
    }
  }

  load(): void {
    const id = this.userId();
    this.loading.set(true);
    const list: Observable<ApiKeyItem[]> = id === null ? this.account.apiKeys() : this.admin.apiKeys(id);
    list.subscribe({
      next: (items) => {
        this.items.set(items);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  protected id(field: string): string {
    return `${this.prefix()}-${field}`;
  }

  protected pick(kind: 'role' | 'permission', name: string, on: boolean): void {
    const picked = kind === 'role' ? this.pickedRoles : this.pickedPermissions;
    picked.update((set) => {
      const next = new Set(set);
      if (on) next.add(name);
      else next.delete(name);
      return next;
    });
  }

  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.creating()) return;
    const { name, expiresInDays } = this.form.getRawValue();
    const body: NewApiKey = {
      name: name.trim(),
      expiresInDays,
      roles: this.choices().roles.filter((r) => this.pickedRoles().has(r)),
      permissions: this.choices().permissions.filter((p) => this.pickedPermissions().has(p)),
    };
    const id = this.userId();
    this.creating.set(true);
    this.createError.set('');
    this.notice.set('');
    this.dismissCreated();
    const call = (password?: string) =>
      id === null ? this.account.createApiKey(body, password) : this.admin.createApiKey(id, body);
    this.reauth.run($localize`:@@account.apiKeys.reauthCreate:Create the API key “${body.name}:name:”`, call, {
      next: (made) => {
        this.creating.set(false);
        this.created.set(made);
        // The list keeps no key.
        const { key: _key, ...listed } = made;
        this.items.update((list) => [listed, ...list]);
        this.form.reset();
        this.pickedRoles.set(new Set());
        this.pickedPermissions.set(new Set());
      },
      error: (e: unknown) => {
        this.creating.set(false);
        this.createError.set(errorMessage(e));
      },
      asked: () => this.creating.set(false),
    });
  }

  protected async copyKey(): Promise<void> {
    const key = this.created()?.key;
    if (!key) return;
    this.copied.set((await copyText(key)) ? 'yes' : 'refused');
  }

  /** Forgets the key just made. */
  protected dismissCreated(): void {
    this.created.set(null);
    this.copied.set(null);
  }

  protected revoke(key: ApiKeyItem): void {
    const id = this.userId();
    this.confirmingRevoke.set(null);
    this.busy.set(key.id);
    this.error.set('');
    this.notice.set('');
    (id === null ? this.account.revokeApiKey(key.id) : this.admin.revokeApiKey(id, key.id)).subscribe({
      next: () => {
        this.busy.set(null);
        const now = new Date().toISOString();
        this.items.update((list) => list.map((k) => (k.id === key.id ? { ...k, revokedAt: now } : k)));
        if (this.created()?.id === key.id) this.dismissCreated();
        this.notice.set($localize`:@@account.apiKeys.revoked:The key “${key.name}:name:” is revoked: it no longer works.`);
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${key.name}: ${errorMessage(e)}`);
      },
    });
  }
}
