import { Component } from '@angular/core';
import { RouterLink, RouterLinkActive } from '@angular/router';

import { AdminToast } from './notices';

/** One entry of the console's navigation. */
interface AdminSection {
  path: string;
  label: string;
  testid: string;
}

/** The console's sections, in the page's language (a function: the translations load after the modules). */
export function adminSections(): readonly AdminSection[] {
  return [
    { path: '/admin/users', label: $localize`:@@admin.nav.users:Users`, testid: 'admin-tab-users' },
    { path: '/admin/audit', label: $localize`:@@admin.nav.audit:Audit log`, testid: 'admin-tab-audit' },
    { path: '/admin/roles', label: $localize`:@@admin.nav.roles:Roles and permissions`, testid: 'admin-tab-roles' },
    { path: '/admin/groups', label: $localize`:@@admin.nav.groups:Groups`, testid: 'admin-tab-groups' },
    { path: '/admin/clients', label: $localize`:@@admin.nav.clients:OpenID Connect clients`, testid: 'admin-tab-clients' },
    { path: '/admin/providers', label: $localize`:@@admin.nav.providers:Identity providers`, testid: 'admin-tab-providers' },
    { path: '/admin/branding', label: $localize`:@@admin.nav.branding:Branding`, testid: 'admin-tab-branding' },
  ];
}

/**
 * The admin console's navigation, on top of every admin page: a row of pills that wraps on a
 * phone rather than scrolling sideways, the current page marked (`aria-current`). It also
 * holds the console's confirmations (the toast), since every admin page shows it.
 */
@Component({
  selector: 'app-admin-nav',
  imports: [RouterLink, RouterLinkActive, AdminToast],
  template: `
    <nav class="mb-4 pb-2 border-bottom" aria-label="Admin console" i18n-aria-label="@@admin.nav.ariaLabel">
      <ul class="nav nav-pills flex-wrap gap-1 admin-nav" data-testid="admin-tabs">
        @for (section of sections; track section.path) {
          <li class="nav-item">
            <a class="nav-link" [routerLink]="section.path" routerLinkActive="active" ariaCurrentWhenActive="page" [attr.data-testid]="section.testid">{{
              section.label
            }}</a>
          </li>
        }
      </ul>
    </nav>
    <app-admin-toast />
  `,
  styles: `
    @media (max-width: 767.98px) {
      .admin-nav .nav-link {
        padding: 0.25rem 0.6rem;
        font-size: 0.875rem;
        border: 1px solid var(--bs-border-color);
      }
    }
  `,
})
export class AdminNav {
  protected readonly sections = adminSections();
}
