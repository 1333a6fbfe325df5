import { Component, inject } from '@angular/core';
import { RouterLink, RouterOutlet } from '@angular/router';

import { VerifyBanner } from './account/verify-banner';
import { BrandingService } from './core/branding.service';
import { BrandLogo } from './shell/brand-logo';
import { UserMenu } from './shell/user-menu';

/**
 * The frame of every page: the navbar (the product's name and logo, and the user menu), the
 * page, and the operator's footer link when there is one.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, BrandLogo, UserMenu, VerifyBanner],
  templateUrl: './app.html',
  host: { class: 'd-flex flex-column min-vh-100' },
})
export class App {
  protected readonly branding = inject(BrandingService);
}
