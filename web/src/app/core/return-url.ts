/**
 * Where the login page may send someone once they are signed in (`?returnUrl=`): only a
 * page of this host, as a relative path. An address from a link can be anything, so anything
 * else is refused: another site (`https://…`, `//host`, `/\host`, which browsers read as
 * `//host`), a scheme (`javascript:…`), or a path with spaces or control characters.
 * A path may be a page of this web app, or of another app on the same host behind forward
 * authentication (`/app/`, deploy/nginx/forward-auth.conf): `routedInApp` tells which.
 */
import { Route } from '@angular/router';

/** Where a sign-in goes when nothing asked for another page: the account console. */
export const AFTER_SIGN_IN = '/account';

/** The longest return address taken (a consent page's carries a request token). */
const MAX_LENGTH = 2048;

/** Somewhere no real address is, to resolve the path against (no request is ever made). */
const PROBE_ORIGIN = 'https://app.invalid';

/** `value` when it is a path of this host (`/…`, not `//…`), otherwise null. */
export function safeReturnUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) {
    return null;
  }
  // One slash, then anything but a second slash or a backslash.
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    return null;
  }
  // Spaces and control characters (a tab or newline is dropped by URL parsers, so `/\t/host`
  // would become `//host`).
  if (/[\u0000-\u0020\u007f-\u009f]/.test(value)) {
    return null;
  }
  try {
    const resolved = new URL(value, PROBE_ORIGIN);
    if (resolved.origin !== PROBE_ORIGIN || isServerRoute(resolved.pathname)) return null;
    return value;
  } catch {
    return null;
  }
}

/**
 * The server's own routes are never a way back: a full page load of one from our page is a
 * same-site request that carries the session's cookies, so `/login?returnUrl=/api/oauth/logout?…`
 * sent from another site would end a session without the user's click (the logout page asks
 * for it when the cookies are missing), or start a flow the user did not.
 */
function isServerRoute(pathname: string): boolean {
  let path: string;
  try {
    path = decodeURIComponent(pathname).toLowerCase();
  } catch {
    return true;
  }
  return ['/api', '/.well-known', '/health', '/metrics'].some(
    (prefix) => path === prefix || path.startsWith(`${prefix}/`),
  );
}

/**
 * Whether the router has a page of its own for `path` (a `safeReturnUrl`), by the route
 * configuration, the catch-all `**` aside: if not, the path belongs to something else on
 * this host (an app behind forward authentication), which only a full page load reaches.
 */
export function routedInApp(path: string, routes: readonly Route[]): boolean {
  let segments: string[];
  try {
    segments = new URL(path, PROBE_ORIGIN).pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return false;
  }
  return routes.some((route) => matches(route, segments));
}

function matches(route: Route, segments: readonly string[]): boolean {
  if (route.path === undefined || route.path === '**' || route.matcher) return false;
  const own = route.path.split('/').filter((s) => s !== '');
  if (own.length > segments.length) return false;
  if (!own.every((part, i) => part.startsWith(':') || part === segments[i])) return false;
  const rest = segments.slice(own.length);
  if (rest.length === 0) return true;
  if (route.children) return route.children.some((child) => matches(child, rest));
  // Lazily loaded children are not known yet: theirs is the benefit of the doubt.
  return route.loadChildren !== undefined;
}
