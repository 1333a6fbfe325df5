import { DOCUMENT } from '@angular/common';
import { Injectable, inject } from '@angular/core';

/** Schemes no redirect from the server should ever have; a full navigation to one is refused. */
const REFUSED_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'blob:', 'file:', 'about:']);

/**
 * A full page navigation away from the app (to a relying party's redirect URI, which may be
 * another site or a native app's scheme), where the router cannot go. An injectable of its
 * own so that unit tests can see where the page would go.
 */
@Injectable({ providedIn: 'root' })
export class ExternalNavigation {
  private readonly document = inject(DOCUMENT);

  /** Leaves the app for `url`; false (and no navigation) for an address no page may go to. */
  assign(url: string): boolean {
    if (!isNavigable(url, this.document.baseURI)) return false;
    this.document.defaultView?.location.assign(url);
    return true;
  }
}

/** A URL (relative ones against `base`) whose scheme is not one of the script- or file-running ones. */
export function isNavigable(url: string, base?: string): boolean {
  try {
    return !REFUSED_SCHEMES.has(new URL(url, base).protocol);
  } catch {
    return false;
  }
}
