import { Component } from '@angular/core';

import { AdminNav } from './admin-nav';
import { AuditLog } from './audit-log';

/** The audit log, a page at a time (admins only). */
@Component({
  selector: 'app-audit-page',
  imports: [AdminNav, AuditLog],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3" i18n="@@admin.auditPage.heading">Audit log</h1>
    <p class="text-body-secondary small" i18n="@@admin.auditPage.intro">Every sign-in and every change, newest first; a change made in the console shows here at once.</p>
    <app-audit-log [limit]="50" />
  `,
})
export class AuditPage {}
