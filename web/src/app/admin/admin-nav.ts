import { Component } from '@angular/core';
import { RouterLink, RouterLinkActive } from '@angular/router';

/** The tabs of the admin pages: users (with the audit log) and the OpenID Connect clients. */
@Component({
  selector: 'app-admin-nav',
  imports: [RouterLink, RouterLinkActive],
  template: `
    <ul class="nav nav-tabs mb-4" data-testid="admin-tabs">
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/users" routerLinkActive="active" ariaCurrentWhenActive="page">Users</a>
      </li>
      <li class="nav-item">
        <a class="nav-link" routerLink="/admin/clients" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="admin-tab-clients">OpenID Connect clients</a>
      </li>
    </ul>
  `,
})
export class AdminNav {}
