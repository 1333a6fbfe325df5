import { Component, inject } from '@angular/core';
import { RouterLink, RouterOutlet } from '@angular/router';

import { VerifyBanner } from './account/verify-banner';
import { BrandingService } from './core/branding.service';
import { BrandLogo } from './shell/brand-logo';
import { LanguagePicker } from './shell/language-picker';
import { UserMenu } from './shell/user-menu';

/**
 * The frame of every page: the navbar (the product's name and logo, and the user menu), the
 * page, and the footer: the operator's link when there is one, and the language picker.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, BrandLogo, UserMenu, VerifyBanner, LanguagePicker],
  templateUrl: './app.html',
  host: { class: 'd-flex flex-column min-vh-100' },
})
export class App {
  protected readonly branding = inject(BrandingService);
}
