/**
 * The app's names for the API's types. They are aliases of the schemas in api.generated.ts,
 * which scripts/gen-api-types generates from the server's OpenAPI document (`portcullis
 * openapi`, also served at /api/openapi.json): change the server, not these types.
 */
import type { components } from './api.generated';

type Schemas = components['schemas'];

/** The signed-in account, as `GET /api/auth/me` describes it. No token ever appears here. */
export type CurrentUser = Schemas['Me'];

export type LengthRule = Schemas['LengthRule'];

/** `GET /api/auth/policy`: the server's validation rules, mirrored by the forms. */
export type Policy = Schemas['Policy'];

/** The policy's `mail`: which of the pages that work by mailed links the server supports. */
export type MailPolicy = Schemas['MailPolicy'];

/** One of `GET /api/auth/sessions`'s items. */
export type SessionInfo = Schemas['SessionItem'];

/** A user as the admin API shows it. */
export type AdminUser = Schemas['UserItem'];

/** `GET /api/admin/users`. */
export type UserPage = Schemas['UserPage'];

/**
 * A page of items. OpenAPI has no generic schemas, so this one is derived from the only paged
 * schema, `UserPage`: its paging fields, with `T` for the items.
 */
export type Page<T> = Omit<UserPage, 'items'> & { items: T[] };

/** One of `GET /api/admin/audit`'s items (`via` is `cli` for a change made on the command line). */
export type AuditEntry = Schemas['AuditItem'];

export type MessageBody = Schemas['MessageBody'];

/** `POST /api/auth/password-reset` and `POST /api/auth/magic-link`. */
export type EmailRequest = Schemas['EmailRequest'];

/** `POST /api/auth/password-reset/confirm`: the link's token and the new password. */
export type ResetConfirm = Schemas['ResetConfirm'];

/** `POST /api/auth/verify-email` and `POST /api/auth/magic-link/confirm`: a link's token. */
export type TokenRequest = Schemas['TokenRequest'];

/** `POST /api/auth/email`: the address changes once the link mailed to the new one is opened. */
export type EmailChange = Schemas['EmailChange'];

/** Every error answer: `message` for people, `code` for programs. */
export type ErrorBody = Schemas['ErrorBody'];

/** Every error answer's `code`. */
export type ErrorCode = Schemas['ErrorCode'];

/** One of `GET /api/auth/passkeys`'s items; `lastUsedAt` is absent or `null` until it signs in. */
export type PasskeyItem = Schemas['PasskeyItem'];

/** `GET /api/auth/passkeys`: the account's passkeys, oldest first. */
export type PasskeyList = Schemas['PasskeyList'];

/** `GET /api/auth/mfa`: what the account has. */
export type MfaStatus = Schemas['MfaStatus'];

/** `POST /api/auth/mfa/totp/setup`: a new secret, to show as a QR code and as text. */
export type TotpSetup = Schemas['TotpSetup'];

/** `POST /api/auth/mfa/totp/confirm` and `POST /api/auth/mfa/recovery-codes`, shown once. */
export type RecoveryCodes = Schemas['RecoveryCodes'];

/** A way to do a sign-in's second step. */
export type MfaMethod = Schemas['MfaMethod'];

/**
 * The answer of a right password (or a sign-in link) for an account with a second factor,
 * or one that must enrol (`enrolmentRequired`): no session yet, only a token for the
 * second step.
 */
export type MfaChallenge = Schemas['MfaChallenge'];

/** A sign-in's answer: the account (and, for body clients, tokens), or the challenge. */
export type SigninAnswer = Schemas['SigninAnswer'];

/**
 * A passkey ceremony's `…/start` answer. The schema leaves `publicKey` untyped; webauthn.ts
 * gives it the DOM's JSON option types (`PasskeyCreationOptions`, `PasskeyRequestOptions`).
 */
export type CeremonyOptions = Schemas['CeremonyOptions'];

/**
 * `GET /api/oauth/logout/request`: the application that asks the user to sign out (an
 * RP-initiated logout that came without the session's cookies), and where the browser goes
 * afterwards (`null`: nowhere, the page says it is done).
 */
export type LogoutRequestInfo = Schemas['LogoutRequestBody'];

/** `POST /api/oauth/logout/confirm`: the logout request's parameters, as the page got them. */
export type LogoutConfirm = Schemas['LogoutConfirm'];

/** Its answer: this browser's session (if any) has ended; where the browser goes next. */
export type LogoutDone = Schemas['LogoutDone'];

export const ROLE_USER = 'ROLE_USER';
export const ROLE_MODERATOR = 'ROLE_MODERATOR';
export const ROLE_ADMIN = 'ROLE_ADMIN';
