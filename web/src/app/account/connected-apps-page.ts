import { Component } from '@angular/core';

import { ConnectedAppsCard } from './connected-apps-card';

/** The account console's Connected apps page: its card, which does the work. */
@Component({
  selector: 'app-connected-apps-page',
  imports: [ConnectedAppsCard],
  template: `
    <h1 class="h3 mb-3" i18n="@@account.connectedAppsPage.title">Connected apps</h1>
    <app-connected-apps-card />
  `,
})
export class ConnectedAppsPage {}
