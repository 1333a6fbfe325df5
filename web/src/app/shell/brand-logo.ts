import { Component, inject, input } from '@angular/core';

import { BrandingService } from '../core/branding.service';

/**
 * The deployment's logo, when it has one (nothing otherwise). Decorative: the product's name
 * is always written next to it, so the image has an empty `alt`.
 */
@Component({
  selector: 'app-brand-logo',
  template: `
    @if (branding.logoUrl(); as logo) {
      <img [src]="logo" alt="" [style.height.px]="size()" class="brand-logo" data-testid="brand-logo" />
    }
  `,
  // Without a logo the element takes no room (nor a flex gap) at all.
  host: { class: 'd-inline-flex align-items-center', '[class.d-none]': '!branding.logoUrl()' },
})
export class BrandLogo {
  protected readonly branding = inject(BrandingService);
  /** Its height in CSS pixels (the width follows the image). */
  readonly size = input(32);
}
