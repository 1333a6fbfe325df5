import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';

import { AdminNav } from './admin-nav';
import { AuditLog } from './audit-log';
import { UserTable } from './user-table';

/**
 * Manage users, with the few newest audit events under the table: the changes made here
 * show there at once, and the whole log is a page of its own.
 */
@Component({
  selector: 'app-admin-page',
  imports: [AdminNav, UserTable, AuditLog, RouterLink],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3" i18n="@@admin.page.heading">Manage users</h1>
    <app-user-table />
    <section class="mt-5" aria-labelledby="recent-activity-heading" data-testid="recent-activity">
      <div class="d-flex flex-wrap align-items-baseline gap-2 mb-2">
        <h2 id="recent-activity-heading" class="h4 mb-0 me-auto" i18n="@@admin.page.recentActivity">Recent activity</h2>
        <a routerLink="/admin/audit" data-testid="open-audit-log" i18n="@@admin.page.wholeAuditLog">The whole audit log</a>
      </div>
      <app-audit-log [limit]="5" [paging]="false" />
    </section>
  `,
})
export class AdminPage {}
