import { Component, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

import { AdminService } from '../core/admin.service';
import { NewRole, PermissionItem, RoleChange, RoleItem } from '../core/api.models';
import { errorCode, errorMessage } from '../core/errors';
import { showErrors } from './client-form';
import { AdminNotices } from './notices';
import { RoleLabelPipe, roleLabel, roleLabels } from './role-label';

/** A role's or group's name, as the server takes it: 3 to 20 of `A-Z a-z 0-9 . _ -`. */
export const RIGHTS_NAME = /^[A-Za-z0-9._-]{3,20}$/;

/** A permission's name: 1 to 100 of `a-z 0-9 : . _ -`, starting with a letter or digit. */
export const PERMISSION_NAME = /^[a-z0-9][a-z0-9:._-]{0,99}$/;

/** The same names, sorted, without `name` (if there) or with it (if `on`). */
export function toggled(names: ReadonlySet<string>, name: string, on: boolean): ReadonlySet<string> {
  const next = new Set(names);
  if (on) next.add(name);
  else next.delete(name);
  return next;
}

/** An optional text as sent: null when empty (or only spaces). */
export function optional(text: string): string | null {
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * Roles and permissions. Roles: the list (built-in ones marked, an application role's
 * client, the permissions each gives, how many accounts and groups hold it), defining one
 * (name, description, optionally a client for an application role, its permissions),
 * changing one's description and permissions (an Edit form under its row), deleting one
 * after a confirmation (and, while something holds it, after a second one that takes it from
 * them: `cascade`). Permissions: the list (with the roles that give each), defining and
 * deleting one the same way.
 */
@Component({
  selector: 'app-roles',
  imports: [ReactiveFormsModule, RoleLabelPipe],
  templateUrl: './roles.html',
  styleUrl: './admin-table.css',
})
export class Roles {
  private readonly admin = inject(AdminService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly notices = inject(AdminNotices);
  protected readonly showErrors = showErrors;
  protected readonly roleLabels = roleLabels;

  protected readonly roles = signal<RoleItem[]>([]);
  protected readonly loadingRoles = signal(true);
  protected readonly error = signal('');
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingDelete = signal<string | null>(null);
  /** The role a delete was refused for (409 `in_use`): it may be deleted anyway. */
  protected readonly inUse = signal<RoleItem | null>(null);

  protected readonly creating = signal(false);
  protected readonly createError = signal('');
  protected readonly form = this.fb.group({
    name: ['', [Validators.required, Validators.pattern(RIGHTS_NAME)]],
    description: [''],
    clientId: [''],
  });
  protected readonly picked = signal<ReadonlySet<string>>(new Set());

  /** The role whose Edit form is open, its description and its permissions as ticked. */
  protected readonly editing = signal<string | null>(null);
  protected readonly editForm = this.fb.group({ description: [''] });
  protected readonly editPicked = signal<ReadonlySet<string>>(new Set());
  protected readonly saving = signal(false);
  protected readonly editError = signal('');

  protected readonly permissions = signal<PermissionItem[]>([]);
  protected readonly loadingPermissions = signal(true);
  protected readonly permissionError = signal('');
  protected readonly permissionBusy = signal<string | null>(null);
  protected readonly confirmingPermission = signal<string | null>(null);
  protected readonly permissionInUse = signal<PermissionItem | null>(null);
  protected readonly creatingPermission = signal(false);
  protected readonly permissionCreateError = signal('');
  protected readonly permissionForm = this.fb.group({
    name: ['', [Validators.required, Validators.pattern(PERMISSION_NAME)]],
    description: [''],
  });

  constructor() {
    this.loadRoles();
    this.loadPermissions();
  }

  protected loadRoles(): void {
    this.loadingRoles.set(true);
    this.admin.roles().subscribe({
      next: (items) => {
        this.roles.set(items);
        this.loadingRoles.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loadingRoles.set(false);
      },
    });
  }

  protected loadPermissions(): void {
    this.loadingPermissions.set(true);
    this.admin.permissions().subscribe({
      next: (items) => {
        this.permissions.set(items);
        this.loadingPermissions.set(false);
      },
      error: (e: unknown) => {
        this.permissionError.set(errorMessage(e));
        this.loadingPermissions.set(false);
      },
    });
  }

  protected pick(name: string, on: boolean): void {
    this.picked.update((set) => toggled(set, name, on));
  }

  protected editPick(name: string, on: boolean): void {
    this.editPicked.update((set) => toggled(set, name, on));
  }

  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    if (this.creating()) return;
    const value = this.form.getRawValue();
    const role: NewRole = {
      name: value.name.trim(),
      permissions: this.permissions().map((p) => p.name).filter((p) => this.picked().has(p)),
    };
    const description = optional(value.description);
    if (description !== null) role.description = description;
    const clientId = optional(value.clientId);
    if (clientId !== null) role.clientId = clientId;
    this.creating.set(true);
    this.createError.set('');
    this.admin.createRole(role).subscribe({
      next: (made) => {
        this.creating.set(false);
        this.roles.update((list) => [...list, made]);
        this.notices.say($localize`:@@roles.roles.created:Role ${roleLabel(made.name)}:role: created.`, 'roles-notice');
        this.form.reset();
        this.picked.set(new Set());
        this.loadPermissions();
      },
      error: (e: unknown) => {
        this.creating.set(false);
        this.createError.set(errorMessage(e));
      },
    });
  }

  protected edit(role: RoleItem): void {
    this.editing.set(role.name);
    this.editForm.setValue({ description: role.description ?? '' });
    this.editPicked.set(new Set(role.permissions));
    this.editError.set('');
    this.confirmingDelete.set(null);
    this.inUse.set(null);
  }

  protected cancelEdit(): void {
    this.editing.set(null);
    this.editError.set('');
  }

  /** Sends the description and permissions as the form has them. */
  protected save(role: RoleItem): void {
    if (this.saving()) return;
    const known = this.permissions().map((p) => p.name);
    // Permissions the list does not show (yet) stay as they were.
    const kept = role.permissions.filter((p) => !known.includes(p));
    const change: RoleChange = {
      description: optional(this.editForm.getRawValue().description),
      permissions: [...known.filter((p) => this.editPicked().has(p)), ...kept],
    };
    this.saving.set(true);
    this.editError.set('');
    this.admin.updateRole(role.name, change).subscribe({
      next: (updated) => {
        this.saving.set(false);
        this.roles.update((list) => list.map((r) => (r.name === role.name ? updated : r)));
        this.editing.set(null);
        const label = roleLabel(updated.name);
        this.notices.say(
          updated.permissions.length === 0
            ? $localize`:@@roles.roles.savedNoPermissions:Role ${label}:role: saved: it gives no permissions.`
            : $localize`:@@roles.roles.saved:Role ${label}:role: saved: it gives ${updated.permissions.join(', ')}:permissions:.`,
          'roles-notice',
        );
        this.loadPermissions();
      },
      error: (e: unknown) => {
        this.saving.set(false);
        this.editError.set(errorMessage(e));
      },
    });
  }

  /** Deletes the role; `cascade` takes it from every account and group that holds it first. */
  protected remove(role: RoleItem, cascade = false): void {
    this.confirmingDelete.set(null);
    this.inUse.set(null);
    this.busy.set(role.name);
    this.error.set('');
    this.admin.removeRole(role.name, cascade).subscribe({
      next: () => {
        this.busy.set(null);
        this.roles.update((list) => list.filter((r) => r.name !== role.name));
        if (this.editing() === role.name) this.editing.set(null);
        this.notices.say($localize`:@@roles.roles.deleted:Role ${roleLabel(role.name)}:role: deleted.`, 'roles-notice');
        this.loadPermissions();
      },
      error: (e: unknown) => {
        this.busy.set(null);
        if (!cascade && errorCode(e) === 'in_use') this.inUse.set(role);
        this.error.set(`${roleLabel(role.name)}: ${errorMessage(e)}`);
      },
    });
  }

  protected createPermission(): void {
    if (this.permissionForm.invalid) {
      this.permissionForm.markAllAsTouched();
      return;
    }
    if (this.creatingPermission()) return;
    const value = this.permissionForm.getRawValue();
    const description = optional(value.description);
    this.creatingPermission.set(true);
    this.permissionCreateError.set('');
    this.admin
      .createPermission(description === null ? { name: value.name.trim() } : { name: value.name.trim(), description })
      .subscribe({
        next: (made) => {
          this.creatingPermission.set(false);
          this.permissions.update((list) => [...list, made].sort((a, b) => a.name.localeCompare(b.name)));
          this.notices.say($localize`:@@roles.permissions.created:Permission ${made.name}:permission: created.`, 'permissions-notice');
          this.permissionForm.reset();
        },
        error: (e: unknown) => {
          this.creatingPermission.set(false);
          this.permissionCreateError.set(errorMessage(e));
        },
      });
  }

  /** Deletes the permission; `cascade` takes it from every role that gives it first. */
  protected removePermission(permission: PermissionItem, cascade = false): void {
    this.confirmingPermission.set(null);
    this.permissionInUse.set(null);
    this.permissionBusy.set(permission.name);
    this.permissionError.set('');
    this.admin.removePermission(permission.name, cascade).subscribe({
      next: () => {
        this.permissionBusy.set(null);
        this.permissions.update((list) => list.filter((p) => p.name !== permission.name));
        this.picked.update((set) => toggled(set, permission.name, false));
        this.notices.say($localize`:@@roles.permissions.deleted:Permission ${permission.name}:permission: deleted.`, 'permissions-notice');
        if (cascade) this.loadRoles();
      },
      error: (e: unknown) => {
        this.permissionBusy.set(null);
        if (!cascade && errorCode(e) === 'in_use') this.permissionInUse.set(permission);
        this.permissionError.set(`${permission.name}: ${errorMessage(e)}`);
      },
    });
  }
}
