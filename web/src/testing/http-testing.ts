import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { CurrentUser, Policy } from '../app/core/api.models';
import { credentialsInterceptor } from '../app/core/credentials.interceptor';

/**
 * Test helper, not part of the app build: the app's HTTP setup (with its interceptor)
 * against Angular's HTTP test backend, and a router whose navigations are recorded.
 */
export function setUpHttp(): { http: HttpTestingController; router: Router } {
  TestBed.configureTestingModule({
    providers: [
      provideHttpClient(withInterceptors([credentialsInterceptor])),
      provideHttpClientTesting(),
      provideRouter([]),
    ],
  });
  const router = TestBed.inject(Router);
  vi.spyOn(router, 'navigate').mockResolvedValue(true);
  return { http: TestBed.inject(HttpTestingController), router };
}

export const ALICE: CurrentUser = {
  id: 7,
  username: 'alice',
  email: 'alice@example.com',
  emailVerified: true,
  roles: ['ROLE_USER'],
  createdAt: '2026-01-01T00:00:00Z',
  groups: [],
  permissions: [],
};

export function unauthorized() {
  return { status: 401, statusText: 'Unauthorized' };
}

/**
 * A policy like the server's defaults; `mail` as given (mail off unless said), passkeys on
 * unless said, signing up with a passkey off.
 */
export function policyWith(
  mail: Partial<Policy['mail']> = {},
  password = { minLength: 8, maxLength: 128 },
  passkeys = true,
): Policy {
  return {
    username: { minLength: 3, maxLength: 20, pattern: '^[A-Za-z0-9._-]{3,20}$' },
    email: { maxLength: 254 },
    password,
    mail: { enabled: false, requireVerifiedEmail: false, magicLinks: false, ...mail },
    passkeys,
    // Off, as the server's default (PORTCULLIS_PASSKEY_SIGNUP).
    passkeySignup: false,
  };
}
