import { Component } from '@angular/core';

import { AdminNav } from './admin-nav';
import { Groups } from './groups';

/** Groups: the roles they carry and their members (admins only). */
@Component({
  selector: 'app-groups-page',
  imports: [AdminNav, Groups],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3" i18n="@@roles.groupsPage.heading">Groups</h1>
    <app-groups />
  `,
})
export class GroupsPage {}
