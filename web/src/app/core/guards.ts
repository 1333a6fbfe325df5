import { inject } from '@angular/core';
import { CanActivateFn, Router, UrlTree } from '@angular/router';

import { SESSION_ENDED } from './credentials.interceptor';
import { AuthService } from './auth.service';
import { ExternalNavigation } from './external-navigation';
import { AFTER_SIGN_IN, routedInApp, safeReturnUrl } from './return-url';

/** The account console's page of sign-ins at other providers, which says why a link failed. */
export const LINKED_SIGNINS_PAGE = '/account/linked';

/** A provider callback's error code, as the server writes them (`provider_unknown`). */
const PROVIDER_ERROR_CODE = /^[a-z_]{1,64}$/;

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

/**
 * Login and register are for people who are not signed in. A signed-in user goes to the
 * account console, or, when sent with a way back (`?returnUrl=`, no `?reason=`), straight there (a
 * full page load for a path the router has no page for). So it is when a link from another
 * site leads to an app behind forward authentication (deploy/nginx/forward-auth.conf): the
 * browser sends no SameSite=Strict cookie on that way, so the proxy and /api/auth/resume see
 * nobody and send it to the login page, where the app itself finds the session.
 *
 * A provider's callback sends a failed link (begun from the account console, so by someone
 * signed in) to `/login?error=<code>` as it does any failure: the console's Linked sign-ins
 * page says it (`/account/linked?error=<code>`, read by its card).
 */
export const anonymousGuard: CanActivateFn = (route) => {
  const auth = inject(AuthService);
  if (!auth.signedIn()) return true;
  const router = inject(Router);
  const query = route.queryParamMap;
  const error = query.get('error');
  if (error !== null && PROVIDER_ERROR_CODE.test(error)) {
    return router.createUrlTree([LINKED_SIGNINS_PAGE], { queryParams: { error } });
  }
  const back = query.has('reason') ? null : safeReturnUrl(query.get('returnUrl'));
  if (back === null) return router.parseUrl(AFTER_SIGN_IN);
  if (routedInApp(back, router.config)) return router.parseUrl(back);
  inject(ExternalNavigation).assign(back);
  return false;
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
