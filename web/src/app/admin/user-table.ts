import { DatePipe } from '@angular/common';
import { Component, computed, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Subject, Subscription, debounceTime } from 'rxjs';

import { ApiKeysCard } from '../account/api-keys-card';
import { AdminService, UserChange } from '../core/admin.service';
import { AdminUser } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';
import { showErrors } from './client-form';
import { AdminNotices } from './notices';
import { RoleLabelPipe, roleLabels } from './role-label';
import { UserIdentities } from './user-identities';
import { UserRights } from './user-rights';

const PAGE_SIZE = 10;

/** The panel open under a user's row: their rights, or a service account's keys. */
export interface OpenPanel {
  id: number;
  panel: 'rights' | 'keys';
}

/**
 * The user table: search by username or email prefix, paging, the moderator and admin roles,
 * each user's rights (where each role comes from, and their own roles among every role there
 * is) and linked sign-ins at other providers, second factors (with a reset), disable/enable, delete; service accounts (made with a
 * form under the table) and their API keys.
 */
@Component({
  selector: 'app-user-table',
  imports: [DatePipe, ReactiveFormsModule, ApiKeysCard, UserIdentities, UserRights, RoleLabelPipe],
  templateUrl: './user-table.html',
  styleUrl: './admin-table.css',
})
export class UserTable {
  private readonly admin = inject(AdminService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly notices = inject(AdminNotices);
  protected readonly auth = inject(AuthService);
  protected readonly showErrors = showErrors;

  protected readonly query = signal('');
  protected readonly page = signal(1);
  protected readonly users = signal<AdminUser[]>([]);
  protected readonly total = signal(0);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly busy = signal<number | null>(null);
  protected readonly confirmingDelete = signal<number | null>(null);
  protected readonly confirmingReset = signal<number | null>(null);
  protected readonly pages = computed(() => Math.max(1, Math.ceil(this.total() / PAGE_SIZE)));
  protected readonly open = signal<OpenPanel | null>(null);

  protected readonly creatingAccount = signal(false);
  protected readonly accountError = signal('');
  protected readonly accountForm = this.fb.group({
    username: ['', [Validators.required, Validators.pattern(/^[A-Za-z0-9._-]{3,20}$/)]],
    description: [''],
  });

  private readonly search$ = new Subject<string>();
  private request?: Subscription;

  constructor() {
    this.search$.pipe(debounceTime(250)).subscribe((q) => {
      this.query.set(q);
      this.page.set(1);
      this.load();
    });
    this.load();
  }

  protected onSearch(value: string): void {
    this.search$.next(value);
  }

  protected goTo(page: number): void {
    if (page < 1 || page > this.pages()) return;
    this.page.set(page);
    this.load();
  }

  protected load(): void {
    this.request?.unsubscribe();
    this.loading.set(true);
    this.request = this.admin.users(this.query(), this.page(), PAGE_SIZE).subscribe({
      next: (result) => {
        this.users.set(result.items);
        this.total.set(result.total);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
      },
    });
  }

  /** Whether the account holds `role` itself (`moderator`, `admin`), not through a group. */
  protected owns(user: AdminUser, role: string): boolean {
    return user.ownRoles.some((r) => r.toLowerCase() === role);
  }

  /**
   * Gives or takes `moderator` or `admin` (the checkboxes): the account's other own roles,
   * defined ones included, are sent as they are.
   */
  protected toggleRole(user: AdminUser, role: 'moderator' | 'admin', box: HTMLInputElement): void {
    const on = box.checked;
    const names = new Set(user.ownRoles.map((r) => r.toLowerCase()));
    names.add('user');
    if (on) names.add(role);
    else names.delete(role);
    // On a refusal the box goes back to what the server has (the binding alone would not
    // move it: the bound value did not change).
    this.change(user, { roles: [...names] }, (updated) => $localize`:@@users.table.rolesSaved:Roles of ${updated.username}:username:: ${roleLabels(updated.ownRoles)}:roles:`, () => (box.checked = !on));
  }

  /** The label of a user's moderator checkbox. */
  protected moderatorLabel(user: AdminUser): string {
    return $localize`:@@users.table.moderatorOf:Moderator: ${user.username}:username:`;
  }

  /** The label of a user's admin checkbox. */
  protected adminLabel(user: AdminUser): string {
    return $localize`:@@users.table.adminOf:Admin: ${user.username}:username:`;
  }

  /** Opens `panel` under the user's row, or closes it when it is open. */
  protected toggle(user: AdminUser, panel: OpenPanel['panel']): void {
    const open = this.open();
    this.open.set(open?.id === user.id && open.panel === panel ? null : { id: user.id, panel });
  }

  protected isOpen(user: AdminUser, panel: OpenPanel['panel']): boolean {
    const open = this.open();
    return open?.id === user.id && open.panel === panel;
  }

  /** The user as the server has it after a change made in their rights panel. */
  protected replace(updated: AdminUser): void {
    this.users.update((list) => list.map((u) => (u.id === updated.id ? updated : u)));
  }

  /** Makes a service account, then finds it in the table (with its API keys open). */
  protected createServiceAccount(): void {
    if (this.accountForm.invalid) {
      this.accountForm.markAllAsTouched();
      return;
    }
    if (this.creatingAccount()) return;
    const { username, description } = this.accountForm.getRawValue();
    this.creatingAccount.set(true);
    this.accountError.set('');
    const trimmed = description.trim();
    this.admin
      .createServiceAccount(trimmed === '' ? { username: username.trim() } : { username: username.trim(), description: trimmed })
      .subscribe({
        next: (made) => {
          this.creatingAccount.set(false);
          this.accountForm.reset();
          this.notices.say($localize`:@@users.table.serviceAccountCreated:Service account ${made.username}:username: created: make it a key below.`);
          this.query.set(made.username);
          this.page.set(1);
          this.open.set({ id: made.id, panel: 'keys' });
          this.load();
        },
        error: (e: unknown) => {
          this.creatingAccount.set(false);
          this.accountError.set(errorMessage(e));
        },
      });
  }

  protected setDisabled(user: AdminUser, disabled: boolean): void {
    this.change(user, { disabled }, (updated) =>
      updated.disabled
        ? $localize`:@@users.table.nowDisabled:${updated.username}:username: is now disabled.`
        : $localize`:@@users.table.nowEnabled:${updated.username}:username: is now enabled.`,
    );
  }

  /** Sends `change`; once the server took it, says what it did in `said`'s words. */
  private change(user: AdminUser, change: UserChange, said: (updated: AdminUser) => string, undo?: () => void): void {
    this.busy.set(user.id);
    this.error.set('');
    this.admin.update(user.id, change).subscribe({
      next: (updated) => {
        this.busy.set(null);
        this.users.update((list) => list.map((u) => (u.id === updated.id ? updated : u)));
        this.notices.say(said(updated));
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${user.username}: ${errorMessage(e)}`);
        undo?.();
      },
    });
  }

  /** Whether the user has a second factor an admin could reset. */
  protected hasMfa(user: AdminUser): boolean {
    return user.totp || user.passkeys > 0;
  }

  protected resetMfa(user: AdminUser): void {
    this.busy.set(user.id);
    this.error.set('');
    this.admin.resetMfa(user.id).subscribe({
      next: () => {
        this.busy.set(null);
        this.confirmingReset.set(null);
        // The server's answer says the same, in English only.
        this.notices.say($localize`:@@users.table.mfaReset:${user.username}:username:: Second factors removed.`);
        this.users.update((list) => list.map((u) => (u.id === user.id ? { ...u, totp: false, passkeys: 0 } : u)));
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.confirmingReset.set(null);
        this.error.set(`${user.username}: ${errorMessage(e)}`);
      },
    });
  }

  protected remove(user: AdminUser): void {
    this.busy.set(user.id);
    this.error.set('');
    this.admin.remove(user.id).subscribe({
      next: () => {
        this.busy.set(null);
        this.confirmingDelete.set(null);
        this.notices.say($localize`:@@users.table.deleted:${user.username}:username: is deleted.`);
        this.load();
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.confirmingDelete.set(null);
        this.error.set(`${user.username}: ${errorMessage(e)}`);
      },
    });
  }
}
