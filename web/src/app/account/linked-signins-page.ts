import { Component } from '@angular/core';

import { LinkedSigninsCard } from './linked-signins-card';

/** The account console's Linked sign-ins page: its card, which does the work. */
@Component({
  selector: 'app-linked-signins-page',
  imports: [LinkedSigninsCard],
  template: `
    <h1 class="h3 mb-3" i18n="@@account.linkedSigninsPage.title">Linked sign-ins</h1>
    <app-linked-signins-card />
  `,
})
export class LinkedSigninsPage {}
