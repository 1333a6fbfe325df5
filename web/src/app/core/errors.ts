import { HttpErrorResponse } from '@angular/common/http';

import { ErrorCode } from './api.models';
import { currentLanguage } from './language';

/** What the pages of mailed links say for a link without a token (cut short when copied). */
export function incompleteLink(): string {
  return $localize`:@@core.errors.incompleteLink:This link is incomplete. Open the link in the mail again, or ask for a new one.`;
}

/**
 * What to tell the user about a failed call. In English, the server's `message` (shown
 * verbatim, as the tutorial's clients do); in another language, the sentence for its `code`
 * (the server's messages are English, the API's contract). A plain fallback without either.
 */
export function errorMessage(error: unknown): string {
  if (!(error instanceof HttpErrorResponse)) {
    return $localize`:@@core.errors.somethingWentWrong:Something went wrong.`;
  }
  if (error.status === 0) {
    return $localize`:@@core.errors.unreachable:Cannot reach the server. Check your connection and try again.`;
  }
  const body = errorBody(error);
  const serverMessage =
    body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : null;
  const code = errorCode(error);
  const translated = code !== null && currentLanguage() !== 'en' ? codeMessage(code) : null;
  let message = translated ?? serverMessage ?? statusMessage(error);
  if (error.status === 429) {
    const wait = retryAfterSeconds(error.headers.get('Retry-After'));
    if (wait !== null) {
      message += ' ' + $localize`:@@core.errors.pleaseWait:Please wait ${describeWait(wait)}:wait:.`;
    }
  }
  return message;
}

/** An answer without a message of its own (a proxy's error page, say). */
function statusMessage(error: HttpErrorResponse): string {
  return error.statusText
    ? $localize`:@@core.errors.serverAnsweredStatusText:The server answered ${error.status}:status: ${error.statusText}:statusText:.`
    : $localize`:@@core.errors.serverAnswered:The server answered ${error.status}:status:.`;
}

/**
 * The sentence for each of the server's error codes, for a page that does not speak English;
 * null for a code this app does not know yet (a newer server's), which keeps the server's words.
 */
export function codeMessage(code: ErrorCode): string | null {
  switch (code) {
    case 'invalid_request':
      return $localize`:@@core.errors.code.invalidRequest:Something in the request is missing or not valid. Check your entries and try again.`;
    case 'forbidden':
      return $localize`:@@core.errors.code.forbidden:You are not allowed to do this.`;
    case 'unauthenticated':
      return $localize`:@@core.errors.code.unauthenticated:You are not signed in. Sign in and try again.`;
    case 'token_expired':
      return $localize`:@@core.errors.code.tokenExpired:Your session has expired. Sign in again.`;
    case 'invalid_token':
      return $localize`:@@core.errors.code.invalidToken:This link or session is not valid or has expired.`;
    case 'invalid_credentials':
      return $localize`:@@core.errors.code.invalidCredentials:Wrong username or password.`;
    case 'too_many_attempts':
      return $localize`:@@core.errors.code.tooManyAttempts:Too many attempts. Try again later.`;
    case 'overloaded':
      return $localize`:@@core.errors.code.overloaded:The server is busy. Try again in a moment.`;
    case 'not_found':
      return $localize`:@@core.errors.code.notFound:That was not found. It may have been deleted.`;
    case 'method_not_allowed':
      return $localize`:@@core.errors.code.methodNotAllowed:The server does not allow this request.`;
    case 'unsupported_media_type':
      return $localize`:@@core.errors.code.unsupportedMediaType:The server cannot read data of this type.`;
    case 'payload_too_large':
      return $localize`:@@core.errors.code.payloadTooLarge:That is too large for the server to accept.`;
    case 'csrf':
      return $localize`:@@core.errors.code.csrf:The request came from another site and was refused. Reload the page and try again.`;
    case 'username_taken':
      return $localize`:@@core.errors.code.usernameTaken:That username is already taken. Choose another one.`;
    case 'email_taken':
      return $localize`:@@core.errors.code.emailTaken:That email address is already used by another account.`;
    case 'unknown_role':
      return $localize`:@@core.errors.code.unknownRole:That role does not exist.`;
    case 'unknown_permission':
      return $localize`:@@core.errors.code.unknownPermission:That permission does not exist.`;
    case 'name_taken':
      return $localize`:@@core.errors.code.nameTaken:That name is already taken.`;
    case 'in_use':
      return $localize`:@@core.errors.code.inUse:It is still in use, so it cannot be deleted.`;
    case 'too_many_api_keys':
      return $localize`:@@core.errors.code.tooManyApiKeys:This account has as many API keys as it may. Revoke one first.`;
    case 'password_too_common':
      return $localize`:@@core.errors.code.passwordTooCommon:That password is too common. Choose another one.`;
    case 'wrong_password':
      return $localize`:@@core.errors.code.wrongPassword:The password is not correct.`;
    case 'refresh_token_required':
      return $localize`:@@core.errors.code.refreshTokenRequired:A refresh token is required.`;
    case 'refresh_token_invalid':
      return $localize`:@@core.errors.code.refreshTokenInvalid:The refresh token is not valid. Sign in again.`;
    case 'refresh_token_expired':
      return $localize`:@@core.errors.code.refreshTokenExpired:The refresh token has expired. Sign in again.`;
    case 'refresh_token_reused':
      return $localize`:@@core.errors.code.refreshTokenReused:The refresh token was already used. Sign in again.`;
    case 'last_admin':
      return $localize`:@@core.errors.code.lastAdmin:The last admin cannot be removed.`;
    case 'mail_disabled':
      return $localize`:@@core.errors.code.mailDisabled:This server cannot send mail.`;
    case 'email_not_verified':
      return $localize`:@@core.errors.code.emailNotVerified:Verify your email address first: follow the link we mailed you.`;
    case 'already_verified':
      return $localize`:@@core.errors.code.alreadyVerified:Your email address is already verified.`;
    case 'magic_links_disabled':
      return $localize`:@@core.errors.code.magicLinksDisabled:Sign-in links are not enabled on this server.`;
    case 'passkeys_disabled':
      return $localize`:@@core.errors.code.passkeysDisabled:Passkeys are not enabled on this server.`;
    case 'passkey_rejected':
      return $localize`:@@core.errors.code.passkeyRejected:The passkey could not be verified.`;
    case 'passkey_invalid':
      return $localize`:@@core.errors.code.passkeyInvalid:Signing in with the passkey did not work.`;
    case 'passkey_exists':
      return $localize`:@@core.errors.code.passkeyExists:This passkey is already registered.`;
    case 'too_many_passkeys':
      return $localize`:@@core.errors.code.tooManyPasskeys:This account has as many passkeys as it may. Remove one first.`;
    case 'no_passkey':
      return $localize`:@@core.errors.code.noPasskey:This account has no passkey.`;
    case 'reauthentication_required':
      return $localize`:@@core.errors.code.reauthenticationRequired:Sign in again, or enter your password, to do this.`;
    case 'totp_already_enabled':
      return $localize`:@@core.errors.code.totpAlreadyEnabled:An authenticator app is already set up.`;
    case 'totp_not_pending':
      return $localize`:@@core.errors.code.totpNotPending:Start setting up the authenticator app first.`;
    case 'mfa_token_invalid':
      return $localize`:@@core.errors.code.mfaTokenInvalid:The sign-in has expired. Sign in again.`;
    case 'mfa_code_invalid':
      return $localize`:@@core.errors.code.mfaCodeInvalid:The code is not valid.`;
    case 'oauth_invalid_request':
      return $localize`:@@core.errors.code.oauthInvalidRequest:The application's request is not valid.`;
    case 'oauth_request_unknown':
      return $localize`:@@core.errors.code.oauthRequestUnknown:This sign-in request has expired or was already used.`;
    case 'device_code_unknown':
      return $localize`:@@core.errors.code.deviceCodeUnknown:That code is not valid or has expired. Check the code on your device.`;
    case 'provider_unavailable':
      return $localize`:@@core.errors.code.providerUnavailable:The identity provider cannot be reached. Try again later.`;
    case 'last_signin_method':
      return $localize`:@@core.errors.code.lastSigninMethod:This is the account's only way to sign in: set a password or add a passkey first.`;
    case 'logo_invalid':
      return $localize`:@@core.errors.code.logoInvalid:The file is not an image of the type it claims to be.`;
    case 'passkey_signup_disabled':
      return $localize`:@@core.errors.code.passkeySignupDisabled:Signing up with a passkey is turned off on this server.`;
    case 'not_ready':
      return $localize`:@@core.errors.code.notReady:The server is not ready yet. Try again in a moment.`;
    case 'unavailable':
      return $localize`:@@core.errors.code.unavailable:The service is temporarily unavailable. Try again in a moment.`;
    case 'internal':
      return $localize`:@@core.errors.code.internal:Something went wrong on the server. Try again later.`;
    default: {
      // A code of a newer server: TypeScript fails here when ErrorCode gains one without a case.
      const exhaustive: never = code;
      void exhaustive;
      return null;
    }
  }
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

/** A wait in words: seconds under a minute, else minutes (rounded up). */
export function describeWait(seconds: number): string {
  if (seconds < 60) {
    return seconds === 1
      ? $localize`:@@core.errors.waitOneSecond:1 second`
      : $localize`:@@core.errors.waitSeconds:${seconds}:count: seconds`;
  }
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1
    ? $localize`:@@core.errors.waitOneMinute:1 minute`
    : $localize`:@@core.errors.waitMinutes:${minutes}:count: minutes`;
}
