import { Component } from '@angular/core';

import { ApiKeysCard } from './api-keys-card';

/** The account console's API keys page: its card, which does the work. */
@Component({
  selector: 'app-api-keys-page',
  imports: [ApiKeysCard],
  template: `
    <h1 class="h3 mb-3" i18n="@@account.apiKeysPage.title">API keys</h1>
    <app-api-keys-card />
  `,
})
export class ApiKeysPage {}
