import { Component } from '@angular/core';

import { AdminNav } from './admin-nav';
import { Roles } from './roles';

/** Roles and the permissions they give (admins only). */
@Component({
  selector: 'app-roles-page',
  imports: [AdminNav, Roles],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3" i18n="@@roles.rolesPage.heading">Roles and permissions</h1>
    <app-roles />
  `,
})
export class RolesPage {}
