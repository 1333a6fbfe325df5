import { Component } from '@angular/core';

import { AdminNav } from './admin-nav';
import { Providers } from './providers';

/** The identity providers people may sign in with (admins only). */
@Component({
  selector: 'app-providers-page',
  imports: [AdminNav, Providers],
  template: `
    <app-admin-nav />
    <h1 class="h3 mb-3" i18n="@@providers.page.title">Identity providers</h1>
    <app-providers />
  `,
})
export class ProvidersPage {}
