import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'app-forbidden',
  imports: [RouterLink],
  template: `
    <div class="alert alert-warning" role="alert" data-testid="forbidden">
      <h1 class="h4" i18n="@@core.forbidden.heading">Not allowed</h1>
      <p class="mb-0" i18n="@@core.forbidden.text">Your account does not have the role this page needs. <a class="alert-link" routerLink="/home">Back home</a></p>
    </div>
  `,
})
export class Forbidden {}
