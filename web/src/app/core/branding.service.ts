import { DOCUMENT } from '@angular/common';
import { HttpClient, HttpContext } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { firstValueFrom, timeout } from 'rxjs';

import { EXPECTS_401 } from './auth.service';
import { brandPalette } from './colour';

/** A link the operator wants under every page (a privacy notice, an imprint…). */
export interface FooterLink {
  text: string;
  url: string;
}

/** `GET /api/branding` (public): how this deployment names and colours itself. */
export interface Branding {
  productName: string;
  /** `#rrggbb`, or null for Bootstrap's blue. */
  primaryColor: string | null;
  /** A path of this server (`/api/branding/logo?v=3`) or a `data:image/…` URL; null: none. */
  logoUrl: string | null;
  footerLink: FooterLink | null;
}

export const DEFAULT_BRANDING: Readonly<Branding> = {
  productName: 'Portcullis',
  primaryColor: null,
  logoUrl: null,
  footerLink: null,
};

/**
 * How long start-up waits for the branding. The app shows (with the defaults) rather than
 * wait on a slow server: a name arriving late is better than a blank page.
 */
export const BRANDING_WAIT_MS = 2000;

/** The class on `<html>` while a custom primary colour is in force (styles.css uses it). */
export const BRANDED_CLASS = 'branded';

const HEX_COLOUR = /^#[0-9a-f]{6}$/i;
const MAX_NAME = 100;

/**
 * The deployment's name, logo, colour and footer link, loaded once at start-up. Any failure
 * (an older server's 404, a network error, a body that is not one) leaves the defaults.
 */
@Injectable({ providedIn: 'root' })
export class BrandingService {
  private readonly http = inject(HttpClient);
  private readonly document = inject(DOCUMENT);
  private readonly current = signal<Branding>(DEFAULT_BRANDING);

  readonly branding = this.current.asReadonly();
  readonly productName = computed(() => this.current().productName);
  readonly logoUrl = computed(() => this.current().logoUrl);
  readonly primaryColor = computed(() => this.current().primaryColor);
  readonly footerLink = computed(() => this.current().footerLink);

  /** Asks the server once; never rejects, never waits longer than `BRANDING_WAIT_MS`. */
  async load(): Promise<void> {
    try {
      const body = await firstValueFrom(
        this.http
          .get<unknown>('/api/branding', { context: new HttpContext().set(EXPECTS_401, true) })
          .pipe(timeout(BRANDING_WAIT_MS)),
      );
      this.apply(body);
    } catch {
      this.apply(DEFAULT_BRANDING);
    }
  }

  /**
   * Shows `body` (checked field by field: what is not valid falls back to its default).
   * Public so that a page that changes the branding can show the change at once.
   */
  apply(body: unknown): void {
    const branding = brandingFrom(body);
    this.current.set(branding);
    this.paint(branding.primaryColor);
  }

  /**
   * Bootstrap's primary colour, set as CSS variables on `<html>` (the policy allows inline
   * styles, not `<style>` elements): text on it is white or black, whichever reads better,
   * and links use a shade dark enough to read on white.
   */
  private paint(colour: string | null): void {
    const root = this.document.documentElement;
    const palette = colour ? brandPalette(colour) : null;
    const names = [
      '--bs-primary',
      '--bs-primary-rgb',
      '--bs-link-color',
      '--bs-link-color-rgb',
      '--bs-link-hover-color',
      '--bs-link-hover-color-rgb',
      '--brand-primary',
      '--brand-primary-rgb',
      '--brand-primary-hover',
      '--brand-primary-active',
      '--brand-on-primary',
      '--brand-primary-text',
    ];
    if (palette === null) {
      for (const name of names) root.style.removeProperty(name);
      root.classList.remove(BRANDED_CLASS);
      return;
    }
    const values: Record<string, string> = {
      '--bs-primary': palette.base,
      '--bs-primary-rgb': palette.baseRgb,
      '--bs-link-color': palette.text,
      '--bs-link-color-rgb': palette.textRgb,
      '--bs-link-hover-color': palette.textHover,
      '--bs-link-hover-color-rgb': palette.textHoverRgb,
      '--brand-primary': palette.base,
      '--brand-primary-rgb': palette.baseRgb,
      '--brand-primary-hover': palette.hover,
      '--brand-primary-active': palette.active,
      '--brand-on-primary': palette.onBase,
      '--brand-primary-text': palette.text,
    };
    for (const name of names) root.style.setProperty(name, values[name]);
    root.classList.add(BRANDED_CLASS);
  }
}

/** The branding in `body`, each field checked; anything else is its default. */
export function brandingFrom(body: unknown): Branding {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const name = typeof b['productName'] === 'string' ? b['productName'].trim() : '';
  const colour = typeof b['primaryColor'] === 'string' && HEX_COLOUR.test(b['primaryColor']) ? b['primaryColor'] : null;
  return {
    productName: name && name.length <= MAX_NAME ? name : DEFAULT_BRANDING.productName,
    primaryColor: colour,
    logoUrl: safeLogoUrl(b['logoUrl']),
    footerLink: safeFooterLink(b['footerLink']),
  };
}

/** A logo the content security policy lets the page show: a path of this host, or `data:image/`. */
function safeLogoUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  if (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) return value;
  return /^data:image\/(png|jpeg|gif|webp|svg\+xml);/i.test(value) ? value : null;
}

/** A footer link to a web page (http or https), with some text to show. */
function safeFooterLink(value: unknown): FooterLink | null {
  if (typeof value !== 'object' || value === null) return null;
  const { text, url } = value as Record<string, unknown>;
  if (typeof text !== 'string' || !text.trim() || typeof url !== 'string') return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? { text: text.trim(), url } : null;
  } catch {
    return null;
  }
}
