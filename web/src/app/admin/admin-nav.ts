import { Component } from '@angular/core';
import { RouterLink, RouterLinkActive } from '@angular/router';

/**
 * The tabs of the admin pages: users (with the audit log), roles and permissions, groups, the
 * OpenID Connect clients and the identity providers people may sign in with.
 */
@Component({
  selector: 'app-admin-nav',
  imports: [RouterLink, RouterLinkActive],
  template: `
    <ul class="nav nav-tabs mb-4" data-testid="admin-tabs">
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/users" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="admin-tab-users">Users</a>
      </li>
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/roles" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="admin-tab-roles">Roles and permissions</a>
      </li>
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/groups" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="admin-tab-groups">Groups</a>
      </li>
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/clients" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="admin-tab-clients">OpenID Connect clients</a>
      </li>
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/providers" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="admin-tab-providers">Identity providers</a>
      </li>
    </ul>
  `,
})
export class AdminNav {}
