import { DatePipe } from '@angular/common';
import { Component, OnInit, inject, input, signal } from '@angular/core';

import { AdminService } from '../core/admin.service';
import { AdminUser, IdentityItem } from '../core/api.models';
import { errorMessage } from '../core/errors';
import { AdminNotices } from './notices';

/**
 * A user's identities at other providers (under the user's row, with their rights): each
 * provider, the email it gave and when it last signed in, with Remove after a confirmation.
 * An admin may remove even the account's last way to sign in (it can still reset its
 * password by mail).
 */
@Component({
  selector: 'app-user-identities',
  imports: [DatePipe],
  templateUrl: './user-identities.html',
})
export class UserIdentities implements OnInit {
  private readonly admin = inject(AdminService);
  private readonly notices = inject(AdminNotices);

  readonly user = input.required<AdminUser>();

  protected readonly items = signal<IdentityItem[] | null>(null);
  protected readonly error = signal('');
  protected readonly busy = signal<number | null>(null);
  protected readonly confirmingRemove = signal<number | null>(null);

  ngOnInit(): void {
    this.admin.userIdentities(this.user().id).subscribe({
      next: (items) => this.items.set(items),
      error: (e: unknown) => this.error.set(errorMessage(e)),
    });
  }

  /** The section's name for screen readers. */
  protected sectionLabel(): string {
    return $localize`:@@users.identities.sectionLabel:Linked sign-ins of ${this.user().username}:username:`;
  }

  protected providerName(item: IdentityItem): string {
    return item.providerName ?? item.provider;
  }

  protected remove(item: IdentityItem): void {
    const user = this.user();
    const name = this.providerName(item);
    this.confirmingRemove.set(null);
    this.busy.set(item.id);
    this.error.set('');
    this.admin.removeUserIdentity(user.id, item.id).subscribe({
      next: () => {
        this.busy.set(null);
        this.items.update((list) => (list ?? []).filter((i) => i.id !== item.id));
        this.notices.say($localize`:@@users.identities.removed:${name}:provider: no longer signs ${user.username}:username: in.`, 'user-identities-notice');
      },
      error: (e: unknown) => {
        this.busy.set(null);
        this.error.set(`${name}: ${errorMessage(e)}`);
      },
    });
  }
}
