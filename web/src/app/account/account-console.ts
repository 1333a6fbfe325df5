import { Component } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

/**
 * The console's pages, in the order its navigation lists them. A function, not a constant:
 * the labels are translated, and the translations are loaded after this module.
 */
export function accountPages(): readonly { path: string; label: string; testId: string }[] {
  return [
    { path: '/account', label: $localize`:@@account.console.profile:Profile`, testId: 'account-nav-profile' },
    { path: '/account/security', label: $localize`:@@account.console.security:Security`, testId: 'account-nav-security' },
    { path: '/account/sessions', label: $localize`:@@account.console.sessions:Sessions`, testId: 'account-nav-sessions' },
    { path: '/account/apps', label: $localize`:@@account.console.apps:Connected apps`, testId: 'account-nav-apps' },
    { path: '/account/linked', label: $localize`:@@account.console.linked:Linked sign-ins`, testId: 'account-nav-linked' },
    { path: '/account/api-keys', label: $localize`:@@account.console.apiKeys:API keys`, testId: 'account-nav-api-keys' },
  ];
}

/**
 * The account console: its navigation (a list beside the page on wide screens, wrapped pills
 * above it on a phone) and the page chosen. Each page is loaded when first opened.
 */
@Component({
  selector: 'app-account-console',
  imports: [RouterLink, RouterLinkActive, RouterOutlet],
  template: `
    <div class="row g-4">
      <div class="col-12 col-md-4 col-lg-3">
        <nav aria-label="Account" i18n-aria-label="@@account.console.navLabel" data-testid="account-nav">
          <p class="text-body-secondary small text-uppercase fw-semibold mb-2 d-none d-md-block" aria-hidden="true" i18n="@@account.console.yourAccount">Your account</p>
          <ul class="nav nav-pills flex-md-column gap-1">
            @for (page of pages; track page.path) {
              <li class="nav-item">
                <a
                  class="nav-link py-1 px-2 py-md-2 px-md-3"
                  [routerLink]="page.path"
                  routerLinkActive="active"
                  [routerLinkActiveOptions]="{ exact: page.path === '/account' }"
                  ariaCurrentWhenActive="page"
                  [attr.data-testid]="page.testId"
                  >{{ page.label }}</a
                >
              </li>
            }
          </ul>
        </nav>
      </div>
      <div class="col-12 col-md-8 col-lg-9">
        <router-outlet />
      </div>
    </div>
  `,
})
export class AccountConsole {
  protected readonly pages = accountPages();
}
