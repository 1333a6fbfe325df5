import { HttpClient, HttpHeaders } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, tap } from 'rxjs';

import { AdminService } from '../core/admin.service';

/** The link under the sign-in pages: both parts or none. */
export interface FooterLink {
  text: string;
  url: string;
}

/** `GET /api/branding`: how the product presents itself (public). */
export interface Branding {
  productName: string;
  /** `#rrggbb`, or null for the app's own. */
  primaryColor: string | null;
  /** Where the logo is (with a version, so a new one is fetched), or null. */
  logoUrl: string | null;
  footerLink: FooterLink | null;
}

/** `PUT /api/admin/branding`: all but the logo, which has a route of its own. */
export type BrandingChange = Omit<Branding, 'logoUrl'>;

/** The logo's types and size, as the server takes them (415 and 413 otherwise). */
export const LOGO_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/webp', 'image/svg+xml'];
/** Every request body's limit (docs/API.md, `PUT /api/admin/branding/logo`). */
export const LOGO_MAX_BYTES = 64 * 1024;

/** The branding API (docs/API.md §2, "Branding"). */
@Injectable({ providedIn: 'root' })
export class BrandingApi {
  private readonly http = inject(HttpClient);
  private readonly admin = inject(AdminService);

  get(): Observable<Branding> {
    return this.http.get<Branding>('/api/branding');
  }

  save(change: BrandingChange): Observable<Branding> {
    return this.changing(this.http.put<Branding>('/api/admin/branding', change));
  }

  /** Sends the image's bytes as they are, with its type. */
  uploadLogo(file: Blob): Observable<Branding> {
    const headers = new HttpHeaders({ 'Content-Type': file.type });
    return this.changing(this.http.put<Branding>('/api/admin/branding/logo', file, { headers }));
  }

  removeLogo(): Observable<Branding> {
    return this.changing(this.http.delete<Branding>('/api/admin/branding/logo'));
  }

  /** A change the server took is news for the audit log on screen. */
  private changing(request: Observable<Branding>): Observable<Branding> {
    return request.pipe(tap(() => this.admin.noteChange()));
  }
}
