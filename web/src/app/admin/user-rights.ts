import { Component, OnInit, inject, input, output, signal } from '@angular/core';

import { AdminService } from '../core/admin.service';
import { AdminUser, HeldRole, RoleItem, UserRights as Rights } from '../core/api.models';
import { errorMessage } from '../core/errors';
import { AdminNotices } from './notices';
import { RoleLabelPipe, roleLabel, roleLabels } from './role-label';
import { toggled } from './roles';

/** Where a held role comes from, as the panel says it: `own`, or `group finance`. */
export function describeSource(from: string): string {
  return from === 'own' ? $localize`:@@roles.userRights.sourceOwn:own` : $localize`:@@roles.userRights.sourceGroup:group ${from}:group:`;
}

/**
 * A user's effective rights (under the user's row): each role and where it comes from (the
 * account's own, or the groups that carry it), the groups, and each permission with the roles
 * that give it; and the account's own roles, to change among every role there is (`user`
 * always kept). Groups' roles change on the Groups page.
 */
@Component({
  selector: 'app-user-rights',
  imports: [RoleLabelPipe],
  templateUrl: './user-rights.html',
})
export class UserRights implements OnInit {
  private readonly admin = inject(AdminService);
  private readonly notices = inject(AdminNotices);

  readonly user = input.required<AdminUser>();
  /** The user as the server has it after a change of their own roles. */
  readonly changed = output<AdminUser>();

  protected readonly rights = signal<Rights | null>(null);
  protected readonly roles = signal<RoleItem[]>([]);
  protected readonly error = signal('');
  protected readonly picked = signal<ReadonlySet<string>>(new Set());
  protected readonly saving = signal(false);
  protected readonly describeSource = describeSource;

  ngOnInit(): void {
    this.picked.set(new Set(this.user().ownRoles.map((r) => r.toLowerCase())));
    this.loadRights();
    this.admin.roles().subscribe({
      next: (items) => this.roles.set(items),
      error: (e: unknown) => this.error.set(errorMessage(e)),
    });
  }

  private loadRights(): void {
    this.admin.rights(this.user().id).subscribe({
      next: (rights) => this.rights.set(rights),
      error: (e: unknown) => this.error.set(errorMessage(e)),
    });
  }

  protected has(role: RoleItem): boolean {
    return role.name === 'user' || this.picked().has(role.name.toLowerCase());
  }

  protected pick(role: RoleItem, on: boolean): void {
    this.picked.update((set) => toggled(set, role.name.toLowerCase(), on));
  }

  protected readonly roleNames = roleLabels;

  protected roleLabel(role: HeldRole): string {
    return role.clientId ? `${roleLabel(role.name)} (${role.clientId})` : roleLabel(role.name);
  }

  /** Replaces the account's own roles with those ticked (and `user`). */
  protected save(): void {
    if (this.saving()) return;
    const names = this.roles()
      .filter((r) => this.has(r))
      .map((r) => r.name);
    const user = this.user();
    this.saving.set(true);
    this.error.set('');
    this.admin.update(user.id, { roles: names }).subscribe({
      next: (updated) => {
        this.saving.set(false);
        this.picked.set(new Set(updated.ownRoles.map((r) => r.toLowerCase())));
        this.notices.say($localize`:@@roles.userRights.saved:Roles of ${updated.username}:user:: ${roleLabels(updated.ownRoles)}:roles:`, 'rights-notice');
        this.changed.emit(updated);
        this.loadRights();
      },
      error: (e: unknown) => {
        this.saving.set(false);
        this.error.set(`${user.username}: ${errorMessage(e)}`);
      },
    });
  }
}
