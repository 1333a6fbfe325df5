/**
 * Where the login page may send someone once they are signed in (`?returnUrl=`): only a
 * page of this app, as a relative path. An address from a link can be anything, so anything
 * else is refused: another site (`https://…`, `//host`, `/\host`, which browsers read as
 * `//host`), a scheme (`javascript:…`), or a path with spaces or control characters.
 */

/** The longest return address taken (a consent page's carries a request token). */
const MAX_LENGTH = 2048;

/** Somewhere no real address is, to resolve the path against (no request is ever made). */
const PROBE_ORIGIN = 'https://app.invalid';

/** `value` when it is a path of this app (`/…`, not `//…`), otherwise null. */
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
    return resolved.origin === PROBE_ORIGIN ? value : null;
  } catch {
    return null;
  }
}
