import { Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { AuthService } from '../core/auth.service';

/**
 * The tutorial's boards, kept as a demo of the role checks (`/api/test/*`): public content,
 * then a board per role, each tab shown to those whose roles open it.
 */
@Component({
  selector: 'app-demo',
  imports: [RouterLink, RouterLinkActive, RouterOutlet],
  template: `
    <h1 class="h3" i18n="@@boards.demo.heading">Demo</h1>
    <p class="text-body-secondary" i18n="@@boards.demo.intro">
      Each board is behind a role check of the server's test routes: what you see depends on your roles.
    </p>
    <nav aria-label="Demo boards" i18n-aria-label="@@boards.demo.tabsLabel" class="mb-3">
      <ul class="nav nav-tabs" data-testid="demo-tabs">
        <li class="nav-item">
          <a class="nav-link" routerLink="/demo" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }" ariaCurrentWhenActive="page" i18n="@@boards.demo.tabPublic">Public</a>
        </li>
        @if (auth.signedIn()) {
          <li class="nav-item">
            <a class="nav-link" routerLink="/demo/user" routerLinkActive="active" ariaCurrentWhenActive="page" i18n="@@boards.demo.tabUser">User</a>
          </li>
        }
        @if (auth.isModerator()) {
          <li class="nav-item">
            <a class="nav-link" routerLink="/demo/mod" routerLinkActive="active" ariaCurrentWhenActive="page" i18n="@@boards.demo.tabModerator">Moderator</a>
          </li>
        }
        @if (auth.isAdmin()) {
          <li class="nav-item">
            <a class="nav-link" routerLink="/demo/admin" routerLinkActive="active" ariaCurrentWhenActive="page" i18n="@@boards.demo.tabAdmin">Admin</a>
          </li>
        }
      </ul>
    </nav>
    <router-outlet />
  `,
})
export class Demo {
  protected readonly auth = inject(AuthService);
}
