import { inject } from '@angular/core';
import { CanActivateFn, Router, UrlTree } from '@angular/router';

import { SESSION_ENDED } from './credentials.interceptor';
import { AuthService } from './auth.service';

/** Signed-in users only; others go to the login page, which brings them back afterwards. */
export const signedInGuard: CanActivateFn = (_route, state) => {
  const auth = inject(AuthService);
  return auth.signedIn()
    ? true
    : inject(Router).createUrlTree(['/login'], { queryParams: { returnUrl: state.url } });
};

/** Moderators and admins only (roles are asked afresh, so a changed role counts at once). */
export const moderatorGuard: CanActivateFn = (_route, state) =>
  roleCheck(state.url, (auth) => auth.isModerator());

/** Admins only (roles are asked afresh, so a changed role counts at once). */
export const adminGuard: CanActivateFn = (_route, state) =>
  roleCheck(state.url, (auth) => auth.isAdmin());

/** Login and register are for people who are not signed in. */
export const anonymousGuard: CanActivateFn = () => {
  const auth = inject(AuthService);
  return auth.signedIn() ? inject(Router).createUrlTree(['/profile']) : true;
};

async function roleCheck(
  url: string,
  allowed: (auth: AuthService) => boolean,
): Promise<boolean | UrlTree> {
  const auth = inject(AuthService);
  const router = inject(Router);
  if (!auth.signedIn()) {
    return router.createUrlTree(['/login'], { queryParams: { returnUrl: url } });
  }
  await auth.load();
  if (!auth.signedIn()) {
    return router.createUrlTree(['/login'], { queryParams: { reason: SESSION_ENDED } });
  }
  return allowed(auth) ? true : router.createUrlTree(['/forbidden']);
}
