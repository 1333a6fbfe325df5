import { HttpErrorResponse } from '@angular/common/http';

/** The server's `message` (shown verbatim, as the tutorial's clients do), or a plain fallback. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof HttpErrorResponse)) {
    return 'Something went wrong.';
  }
  if (error.status === 0) {
    return 'Cannot reach the server. Check your connection and try again.';
  }
  let body: unknown = error.error;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = null;
    }
  }
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
