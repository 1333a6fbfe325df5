import { Component, computed, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';

import { AdminService } from '../core/admin.service';
import { AdminUser, GroupChange, GroupItem, MemberItem, NewGroup, RoleItem } from '../core/api.models';
import { errorMessage } from '../core/errors';
import { showErrors } from './client-form';
import { AdminNotices } from './notices';
import { RoleLabelPipe, roleLabels } from './role-label';
import { RIGHTS_NAME, optional, toggled } from './roles';

/** Members shown a page at a time. */
export const MEMBER_PAGE_SIZE = 20;
/** Users a search offers to add. */
const SEARCH_SIZE = 5;

/**
 * Groups: the list (the roles each carries, how many members), defining one (name,
 * description, roles), changing one's description and roles (an Edit form under its row),
 * deleting one after a confirmation, and a group's members (a Members panel under its row: a
 * page at a time, removing one, adding one found by username or email, or by user id).
 */
@Component({
  selector: 'app-groups',
  imports: [ReactiveFormsModule, RoleLabelPipe],
  templateUrl: './groups.html',
  styleUrl: './admin-table.css',
})
export class Groups {
  private readonly admin = inject(AdminService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly notices = inject(AdminNotices);
  protected readonly showErrors = showErrors;
  /** The id of the Members panel, for the toggle's `aria-controls`. */
  protected readonly membersPanelId = 'group-members-panel';

  protected readonly groups = signal<GroupItem[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal('');
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingDelete = signal<string | null>(null);

  /** The roles a group may carry: every role but `admin`, which no group may carry. */
  private readonly allRoles = signal<RoleItem[]>([]);
  protected readonly roleChoices = computed(() => this.allRoles().filter((r) => r.name !== 'admin'));

  protected readonly creating = signal(false);
  protected readonly createError = signal('');
  protected readonly form = this.fb.group({
    name: ['', [Validators.required, Validators.pattern(RIGHTS_NAME)]],
    description: [''],
  });
  protected readonly picked = signal<ReadonlySet<string>>(new Set());

  protected readonly editing = signal<string | null>(null);
  protected readonly editForm = this.fb.group({ description: [''] });
  protected readonly editPicked = signal<ReadonlySet<string>>(new Set());
  protected readonly saving = signal(false);
  protected readonly editError = signal('');

  /** The group whose Members panel is open, and that panel's state. */
  protected readonly open = signal<string | null>(null);
  protected readonly members = signal<MemberItem[]>([]);
  protected readonly memberPage = signal(1);
  protected readonly loadingMembers = signal(false);
  protected readonly membersError = signal('');
  protected readonly memberBusy = signal<number | null>(null);
  protected readonly hasMore = computed(() => this.members().length >= MEMBER_PAGE_SIZE);
  protected readonly searchForm = this.fb.group({ query: ['', [Validators.required, Validators.pattern(/\S/)]] });
  protected readonly searching = signal(false);
  /** The users the last search found (null: no search yet). */
  protected readonly found = signal<AdminUser[] | null>(null);

  constructor() {
    this.load();
    this.admin.roles().subscribe({
      next: (items) => this.allRoles.set(items),
      error: (e: unknown) => this.error.set(errorMessage(e)),
    });
  }

  protected load(): void {
    this.loading.set(true);
    this.admin.groups().subscribe({
      next: (items) => {
        this.groups.set(items);
        this.loading.set(false);
      },
      error: (e: unknown) => {
        this.error.set(errorMessage(e));
        this.loading.set(false);
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
    const group: NewGroup = {
      name: value.name.trim(),
      roles: this.roleChoices().map((r) => r.name).filter((r) => this.picked().has(r)),
    };
    const description = optional(value.description);
    if (description !== null) group.description = description;
    this.creating.set(true);
    this.createError.set('');
    this.admin.createGroup(group).subscribe({
      next: (made) => {
        this.creating.set(false);
        this.groups.update((list) => [...list, made].sort((a, b) => a.name.localeCompare(b.name)));
        this.notices.say($localize`:@@roles.groups.created:Group ${made.name}:group: created.`, 'groups-notice');
        this.form.reset();
        this.picked.set(new Set());
      },
      error: (e: unknown) => {
        this.creating.set(false);
        this.createError.set(errorMessage(e));
      },
    });
  }

  protected edit(group: GroupItem): void {
    this.editing.set(group.name);
    this.editForm.setValue({ description: group.description ?? '' });
    this.editPicked.set(new Set(group.roles));
    this.editError.set('');
    this.confirmingDelete.set(null);
  }

  protected cancelEdit(): void {
    this.editing.set(null);
    this.editError.set('');
  }

  protected save(group: GroupItem): void {
    if (this.saving()) return;
    const known = this.roleChoices().map((r) => r.name);
    const kept = group.roles.filter((r) => !known.includes(r));
    const change: GroupChange = {
      description: optional(this.editForm.getRawValue().description),
      roles: [...known.filter((r) => this.editPicked().has(r)), ...kept],
    };
    this.saving.set(true);
    this.editError.set('');
    this.admin.updateGroup(group.name, change).subscribe({
      next: (updated) => {
        this.saving.set(false);
        this.groups.update((list) => list.map((g) => (g.name === group.name ? updated : g)));
        this.editing.set(null);
        this.notices.say(
          updated.roles.length === 0
            ? $localize`:@@roles.groups.savedNoRoles:Group ${updated.name}:group: saved: it carries no roles.`
            : $localize`:@@roles.groups.saved:Group ${updated.name}:group: saved: it carries ${roleLabels(updated.roles)}:roles:.`,
          'groups-notice',
        );
      },
      error: (e: unknown) => {
        this.saving.set(false);
        this.editError.set(errorMessage(e));
      },
    });
  }

  protected remove(group: GroupItem): void {
    this.confirmingDelete.set(null);
    this.busy.set(group.name);
    this.error.set('');
    this.admin.removeGroup(group.name).subscribe({
      next: () => {
        this.busy.set(null);
        this.groups.update((list) => list.filter((g) => g.name !== group.name));
        if (this.editing() === group.name) this.editing.set(null);
        if (this.open() === group.name) this.open.set(null);
        this.notices.say($localize`:@@roles.groups.deleted:Group ${group.name}:group: deleted.`, 'groups-notice');
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${group.name}: ${errorMessage(e)}`);
      },
    });
  }

  /** Opens (or closes) the group's Members panel, at its first page. */
  protected toggleMembers(group: GroupItem): void {
    if (this.open() === group.name) {
      this.open.set(null);
      return;
    }
    this.open.set(group.name);
    this.members.set([]);
    this.memberPage.set(1);
    this.membersError.set('');
    this.found.set(null);
    this.searchForm.reset();
    this.loadMembers();
  }

  protected goTo(page: number): void {
    if (page < 1) return;
    this.memberPage.set(page);
    this.loadMembers();
  }

  private loadMembers(): void {
    const group = this.open();
    if (group === null) return;
    this.loadingMembers.set(true);
    this.admin.members(group, this.memberPage(), MEMBER_PAGE_SIZE).subscribe({
      next: (page) => {
        this.members.set(page.items);
        this.loadingMembers.set(false);
      },
      error: (e: unknown) => {
        this.membersError.set(errorMessage(e));
        this.loadingMembers.set(false);
      },
    });
  }

  /**
   * A user id is added at once; anything else is looked up by username or email prefix, and
   * the users found are offered.
   */
  protected find(): void {
    if (this.searchForm.invalid) {
      this.searchForm.markAllAsTouched();
      return;
    }
    const query = this.searchForm.getRawValue().query.trim();
    this.membersError.set('');
    if (/^\d+$/.test(query)) {
      this.found.set(null);
      this.addMember(Number(query), $localize`:@@roles.groups.userById:User ${query}:id:`);
      return;
    }
    this.searching.set(true);
    this.admin.users(query, 1, SEARCH_SIZE).subscribe({
      next: (page) => {
        this.searching.set(false);
        this.found.set(page.items);
      },
      error: (e: unknown) => {
        this.searching.set(false);
        this.membersError.set(errorMessage(e));
      },
    });
  }

  protected isMember(userId: number): boolean {
    return this.members().some((m) => m.id === userId);
  }

  protected addMember(userId: number, label: string): void {
    const group = this.open();
    if (group === null) return;
    this.memberBusy.set(userId);
    this.membersError.set('');
    this.admin.addMember(group, userId).subscribe({
      next: () => {
        this.memberBusy.set(null);
        this.notices.say($localize`:@@roles.groups.memberAdded:${label}:user: is in ${group}:group:.`, 'members-notice');
        this.found.set(null);
        this.searchForm.reset();
        this.loadMembers();
        this.load();
      },
      error: (e: unknown) => {
        this.memberBusy.set(null);
        this.membersError.set(`${label}: ${errorMessage(e)}`);
      },
    });
  }

  protected removeMember(member: MemberItem): void {
    const group = this.open();
    if (group === null) return;
    this.memberBusy.set(member.id);
    this.membersError.set('');
    this.admin.removeMember(group, member.id).subscribe({
      next: () => {
        this.memberBusy.set(null);
        this.members.update((list) => list.filter((m) => m.id !== member.id));
        this.notices.say($localize`:@@roles.groups.memberRemoved:${member.username}:user: is no longer in ${group}:group:.`, 'members-notice');
        this.load();
      },
      error: (e: unknown) => {
        this.memberBusy.set(null);
        this.membersError.set(`${member.username}: ${errorMessage(e)}`);
      },
    });
  }
}
