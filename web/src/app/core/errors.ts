import { HttpErrorResponse } from '@angular/common/http';

import { ErrorCode } from './api.models';

/** What the pages of mailed links say for a link without a token (cut short when copied). */
export const INCOMPLETE_LINK =
  'This link is incomplete. Open the link in the mail again, or ask for a new one.';

/** The server's `message` (shown verbatim, as the tutorial's clients do), or a plain fallback. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof HttpErrorResponse)) {
    return 'Something went wrong.';
  }
  if (error.status === 0) {
    return 'Cannot reach the server. Check your connection and try again.';
  }
  const body = errorBody(error);
  let message =
    body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : `The server answered ${error.status}${error.statusText ? ' ' + error.statusText : ''}.`;
  if (error.status === 429) {
    const wait = retryAfterSeconds(error.headers.get('Retry-After'));
    if (wait !== null) {
      message += ` Please wait ${describeWait(wait)}.`;
    }
  }
  return message;
}

/**
 * The server's `code` (for a page that answers some errors its own way, such as a dead
 * link), or null when the error is not an answer of the server's with a code.
 */
export function errorCode(error: unknown): ErrorCode | null {
  if (!(error instanceof HttpErrorResponse)) {
    return null;
  }
  const body = errorBody(error);
  return body && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string'
    ? (body as { code: ErrorCode }).code
    : null;
}

/** The error's body, parsed if it came as text. */
function errorBody(error: HttpErrorResponse): unknown {
  if (typeof error.error !== 'string') {
    return error.error;
  }
  try {
    return JSON.parse(error.error) as unknown;
  } catch {
    return null;
  }
}

/** `Retry-After` as seconds (the server sends seconds; an HTTP date is accepted too). */
export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') {
    return null;
  }
  if (/^\d+$/.test(value.trim())) {
    return Number(value.trim());
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

export function describeWait(seconds: number): string {
  if (seconds < 60) {
    return seconds === 1 ? '1 second' : `${seconds} seconds`;
  }
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
