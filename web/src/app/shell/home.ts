import { Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';

import { AuthService } from '../core/auth.service';
import { BrandingService } from '../core/branding.service';
import { BrandLogo } from './brand-logo';

/** The landing page: what this is, and the way in (or, once signed in, the way on). */
@Component({
  selector: 'app-home',
  imports: [BrandLogo, RouterLink],
  template: `
    <section class="py-4 py-md-5 text-center mx-auto" style="max-width: 40rem">
      <app-brand-logo [size]="72" />
      <h1 class="display-6 fw-semibold mt-3" data-testid="home-title">{{ branding.productName() }}</h1>
      <p class="lead text-body-secondary mb-4" i18n="@@shell.home.lead">
        One account for the applications your team runs: sign in once, with a password, a passkey or
        another provider, and every application knows who you are.
      </p>
      @if (auth.user(); as user) {
        <p data-testid="home-signed-in" i18n="@@shell.home.signedInAs">Signed in as <strong>{{ user.username }}</strong>.</p>
        <div class="d-flex flex-wrap gap-2 justify-content-center">
          <a class="btn btn-primary btn-lg" routerLink="/account" data-testid="home-account" i18n="@@shell.home.yourAccount">Your account</a>
          @if (auth.canUseAdminConsole()) {
            <a class="btn btn-outline-primary btn-lg" routerLink="/admin" data-testid="home-admin" i18n="@@shell.home.adminConsole">Admin console</a>
          }
        </div>
      } @else {
        <div class="d-flex flex-wrap gap-2 justify-content-center">
          <a class="btn btn-primary btn-lg" routerLink="/login" data-testid="home-sign-in" i18n="@@shell.home.signIn">Sign in</a>
          <a class="btn btn-outline-primary btn-lg" routerLink="/register" data-testid="home-sign-up" i18n="@@shell.home.signUp">Sign up</a>
        </div>
      }
    </section>
  `,
})
export class Home {
  protected readonly auth = inject(AuthService);
  protected readonly branding = inject(BrandingService);
}
