import { Injectable, inject } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { RouterStateSnapshot, TitleStrategy } from '@angular/router';

import { BrandingService } from './branding.service';

/** A page's title: `Sign in · Acme ID`, or the product's name alone for a page without one. */
export function pageTitle(page: string | undefined, productName: string): string {
  return page ? `${page} · ${productName}` : productName;
}

/**
 * The routes' `title` names the page only; the product's name (the deployment's branding)
 * follows it.
 */
@Injectable({ providedIn: 'root' })
export class BrandedTitleStrategy extends TitleStrategy {
  private readonly title = inject(Title);
  private readonly branding = inject(BrandingService);

  override updateTitle(snapshot: RouterStateSnapshot): void {
    this.title.setTitle(pageTitle(this.buildTitle(snapshot), this.branding.productName()));
  }
}
