import { DatePipe } from '@angular/common';
import { Component, computed, inject, signal } from '@angular/core';
import { Subject, Subscription, debounceTime } from 'rxjs';

import { AdminService, UserChange } from '../core/admin.service';
import { AdminUser, ROLE_ADMIN, ROLE_MODERATOR } from '../core/api.models';
import { AuthService } from '../core/auth.service';
import { errorMessage } from '../core/errors';

const PAGE_SIZE = 10;

/**
 * The user table: search by username or email prefix, paging, roles, second factors (with a
 * reset), disable/enable, delete.
 */
@Component({
  selector: 'app-user-table',
  imports: [DatePipe],
  templateUrl: './user-table.html',
})
export class UserTable {
  private readonly admin = inject(AdminService);
  protected readonly auth = inject(AuthService);

  protected readonly query = signal('');
  protected readonly page = signal(1);
  protected readonly users = signal<AdminUser[]>([]);
  protected readonly total = signal(0);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly busy = signal<number | null>(null);
  protected readonly confirmingDelete = signal<number | null>(null);
  protected readonly confirmingReset = signal<number | null>(null);
  protected readonly notice = signal('');
  protected readonly pages = computed(() => Math.max(1, Math.ceil(this.total() / PAGE_SIZE)));
  protected readonly ROLE_ADMIN = ROLE_ADMIN;
  protected readonly ROLE_MODERATOR = ROLE_MODERATOR;

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

  protected toggleRole(user: AdminUser, role: string, box: HTMLInputElement): void {
    const on = box.checked;
    const roles = new Set(user.roles);
    if (on) roles.add(role);
    else roles.delete(role);
    const names = ['user'];
    if (roles.has(ROLE_MODERATOR)) names.push('moderator');
    if (roles.has(ROLE_ADMIN)) names.push('admin');
    // On a refusal the box goes back to what the server has (the binding alone would not
    // move it: the bound value did not change).
    this.change(user, { roles: names }, () => (box.checked = !on));
  }

  protected setDisabled(user: AdminUser, disabled: boolean): void {
    this.change(user, { disabled });
  }

  private change(user: AdminUser, change: UserChange, undo?: () => void): void {
    this.busy.set(user.id);
    this.error.set('');
    this.admin.update(user.id, change).subscribe({
      next: (updated) => {
        this.busy.set(null);
        this.users.update((list) => list.map((u) => (u.id === updated.id ? updated : u)));
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
    this.notice.set('');
    this.admin.resetMfa(user.id).subscribe({
      next: (body) => {
        this.busy.set(null);
        this.confirmingReset.set(null);
        this.notice.set(`${user.username}: ${body?.message || 'Second factors removed.'}`);
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
