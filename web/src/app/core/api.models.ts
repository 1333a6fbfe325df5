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

/**
 * One of `GET /api/admin/roles`'s items: `builtIn` for `user`, `moderator` and `admin` (never
 * renamed or deleted), `clientId` for an application role (only in that client's tokens),
 * `users` and `groups` the accounts and groups that hold it.
 */
export type RoleItem = Schemas['RoleItem'];

/** `POST /api/admin/roles`. */
export type NewRole = Schemas['CreateRoleRequest'];

/** `PATCH /api/admin/roles/{name}`: a null description clears it; `permissions` replaces them. */
export type RoleChange = Schemas['UpdateRoleRequest'];

/** One of `GET /api/admin/permissions`'s items: `builtIn` for Portcullis's own (`portcullis:…`). */
export type PermissionItem = Schemas['PermissionItem'];

/** `POST /api/admin/permissions`. */
export type NewPermission = Schemas['CreatePermissionRequest'];

/** One of `GET /api/admin/groups`'s items: the roles it carries to its members. */
export type GroupItem = Schemas['GroupItem'];

/** `POST /api/admin/groups` (never with `admin` among the roles). */
export type NewGroup = Schemas['CreateGroupRequest'];

/** `PATCH /api/admin/groups/{name}`: a null description clears it; `roles` replaces them. */
export type GroupChange = Schemas['UpdateGroupRequest'];

/** One of a group's members (`GET /api/admin/groups/{name}/members`). */
export type MemberItem = Schemas['MemberItem'];

/** `GET /api/admin/groups/{name}/members`: a page of members, by username (no total). */
export type MemberPage = Schemas['MemberPage'];

/**
 * `GET /api/admin/users/{id}/rights`: a user's effective rights. Each role says where it
 * comes from (`own`, or the groups that carry it); each permission the roles that give it.
 */
export type UserRights = Schemas['UserRights'];

/** A role of `UserRights`. */
export type HeldRole = Schemas['HeldRole'];

/** A permission of `UserRights`. */
export type HeldPermission = Schemas['HeldPermission'];

/** `POST /api/admin/service-accounts`: an account for machines, which acts only through keys. */
export type NewServiceAccount = Schemas['CreateServiceAccountRequest'];

/** Its 201 answer. */
export type ServiceAccountItem = Schemas['ServiceAccountItem'];

/**
 * An API key as listed (`prefix`: its first characters, to tell keys apart). `key` is only
 * in the answer to its creation, shown that once.
 */
export type ApiKeyItem = Schemas['ApiKeyItem'];

/**
 * `POST /api/auth/api-keys` and `POST /api/admin/users/{id}/api-keys`: a name, 1 to 365
 * days (90 when left out), and roles and permissions the owner holds (none: only `user`).
 */
export type NewApiKey = Schemas['CreateApiKeyRequest'];

/** The role name of an authority: `ROLE_BILLING` is `billing` (role names ignore case). */
export function roleName(authority: string): string {
  return authority.replace(/^ROLE_/, '').toLowerCase();
}

/**
 * One of `GET /api/auth/providers`'s items: an enabled identity provider, for the login page's
 * "Continue with …" buttons (`icon`: a `data:` image URL, or null).
 */
export type ProviderButton = Schemas['ProviderButton'];

/**
 * One of an account's identities at a provider (`GET /api/auth/identities`, and an admin's
 * `GET /api/admin/users/{id}/identities`); `providerName` is null once the provider is gone.
 */
export type IdentityItem = Schemas['IdentityItem'];

/** `POST /api/auth/providers/{id}/link`'s answer: where to send the browser (the provider). */
export type LinkStarted = Schemas['LinkStarted'];

/** An identity provider as admins see it (never its secret: `hasSecret` says if one is set). */
export type ProviderItem = Schemas['ProviderItem'];

/** `POST /api/admin/providers`: its id, kind, settings and (write-only) client secret. */
export type NewProvider = Schemas['CreateProviderRequest'];

/**
 * `PATCH /api/admin/providers/{id}`: any setting (null removes an optional one),
 * `clientSecret` (null removes it) and `enabled`; what is not named stays. `id` and `kind`
 * never change.
 */
export type ProviderChange = Partial<Omit<NewProvider, 'id' | 'kind'>>;
