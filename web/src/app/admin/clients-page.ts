import { Component } from '@angular/core';

import { AdminNav } from './admin-nav';
import { OidcClients } from './oidc-clients';

/** The OpenID Connect clients: the applications that may sign people in here (admins only). */
@Component({
  selector: 'app-clients-page',
  imports: [AdminNav, OidcClients],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3" i18n="@@clients.page.heading">OpenID Connect clients</h1>
    <app-oidc-clients />
  `,
})
export class ClientsPage {}
