import { Component } from '@angular/core';

import { AdminNav } from './admin-nav';
import { AuditLog } from './audit-log';
import { UserTable } from './user-table';

/** Manage users and read the audit log (admins only). */
@Component({
  selector: 'app-admin-page',
  imports: [AdminNav, UserTable, AuditLog],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3">Manage users</h1>
    <app-user-table />
    <h2 class="h4 mt-5 mb-3">Audit log</h2>
    <app-audit-log />
  `,
})
export class AdminPage {}
