/**
 * The OpenID Connect provider's JSON: aliases of the schemas in api.generated.ts (generated
 * from the server's OpenAPI document, which has these routes), as in api.models.ts, plus the
 * scopes and ID token algorithms the forms offer.
 */
import type { components } from './api.generated';

type Schemas = components['schemas'];

/** The scopes a client may be registered for and ask for, in the server's order. */
export const OAUTH_SCOPES = ['openid', 'profile', 'email', 'roles', 'groups', 'offline_access'] as const;

export type OAuthScope = (typeof OAUTH_SCOPES)[number];

/**
 * What each scope lets an application know or do, as the consent page says it. Each is a
 * getter, so the text is in the page's language when it is read (not when this loads).
 */
export const SCOPE_DESCRIPTIONS: Readonly<Record<OAuthScope, string>> = {
  get openid() {
    return $localize`:@@core.scopes.openid:Know who you are (your account id)`;
  },
  get profile() {
    return $localize`:@@core.scopes.profile:Your username`;
  },
  get email() {
    return $localize`:@@core.scopes.email:Your email address`;
  },
  get roles() {
    return $localize`:@@core.scopes.roles:Your roles, and what they allow`;
  },
  get groups() {
    return $localize`:@@core.scopes.groups:The groups you are in`;
  },
  get offline_access() {
    return $localize`:@@core.scopes.offlineAccess:Stay signed in when you are away (a refresh token)`;
  },
};

/** A scope's explanation; a scope the app does not know is shown by its name. */
export function describeScope(scope: string): string {
  return (OAUTH_SCOPES as readonly string[]).includes(scope) ? SCOPE_DESCRIPTIONS[scope as OAuthScope] : scope;
}

/**
 * The algorithms a client's ID tokens may be signed with (`idTokenSignedResponseAlg`), the
 * default first: every relying party can check RS256.
 */
export const ID_TOKEN_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

export const DEFAULT_ID_TOKEN_ALG: IdTokenAlg = 'RS256';

/** The application a sign-in request comes from. */
export type OAuthClientRef = Schemas['ClientSummary'];

/**
 * `GET /api/oauth/requests/{token}` (no session needed): the pending sign-in request that
 * `/api/oauth/authorize` sent the browser here with. 404 `oauth_request_unknown` once it has
 * expired or been used. `alreadyAllowed`: the signed-in user allowed these scopes to this
 * client before, so the page continues without asking (the authorization endpoint cannot tell
 * when the browser came from another site, which sends no SameSite=Strict cookies).
 */
export type OAuthRequestInfo = Schemas['RequestBody'] & DeviceFlag;

/**
 * Not in api.generated.ts yet (the server's OpenAPI gains it with the device flow): `device`
 * is true for a request a device made (RFC 8628) with a code the user typed on `/device`.
 * Such a request is never allowed without asking, even when `alreadyAllowed`.
 */
export interface DeviceFlag {
  device: boolean;
}

/** `POST /api/oauth/requests/{token}` (with the session's cookies). */
export type ConsentDecision = Schemas['DecisionRequest'];

/** Its answer: where the browser goes next (the application's redirect URI, with a code or an error). */
export type ConsentRedirect = Schemas['DecisionBody'];

/** One of `GET /api/oauth/consents`'s items: an application the account has allowed (`grantedAt`: RFC 3339). */
export type ConnectedApp = Schemas['ConsentItem'];

/**
 * One of `GET /api/admin/clients`'s items (`public`: a browser or mobile app, no secret, PKCE
 * required; `createdAt`: RFC 3339). The list never holds a secret.
 */
export type OAuthClient = Omit<Schemas['ClientItem'], 'clientSecret'> & OAuthClientSettings;

/**
 * `POST /api/admin/clients`; `idTokenSignedResponseAlg` is one of `ID_TOKEN_ALGS` (RS256 when
 * absent). The settings may be left out: `grantTypes` then the defaults of the client's kind
 * (`defaultGrantTypes`), the server's access token lifetime, no back-channel logout, and no
 * PAR, DPoP or first-party.
 */
export type NewOAuthClient = Schemas['CreateClientRequest'] & Partial<OAuthClientSettings>;

/** Its 201 answer: the client, with its secret (confidential clients only), shown this once. */
export type CreatedOAuthClient = Schemas['ClientItem'] & OAuthClientSettings;

/*
 * Not in api.generated.ts yet: the server's clients are gaining these settings, and the
 * generated types will have them once it is regenerated from the server's OpenAPI document
 * (then these become aliases, as above).
 */

/** The device authorization grant's type (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The grants a client may be registered for, in the server's order. */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  DEVICE_CODE_GRANT,
] as const;

export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * Each grant as the admin pages say it. Each is a getter, so the text is in the page's
 * language when it is read (not when this loads).
 */
export const GRANT_TYPE_LABELS: Readonly<Record<GrantType, string>> = {
  get authorization_code() {
    return $localize`:@@core.grants.authorizationCode:Authorization code`;
  },
  get refresh_token() {
    return $localize`:@@core.grants.refreshToken:Refresh token`;
  },
  get client_credentials() {
    return $localize`:@@core.grants.clientCredentials:Client credentials`;
  },
  get [DEVICE_CODE_GRANT]() {
    return $localize`:@@core.grants.deviceCode:Device code`;
  },
};

/** A grant's label; one the app does not know is shown by its name. */
export function describeGrantType(grant: string): string {
  return (GRANT_TYPES as readonly string[]).includes(grant) ? GRANT_TYPE_LABELS[grant as GrantType] : grant;
}

/**
 * The grants of a client registered without a list: a code and its refresh tokens, and for a
 * confidential client its own token too (a public client may never have client_credentials).
 */
export function defaultGrantTypes(isPublic: boolean): GrantType[] {
  return isPublic
    ? ['authorization_code', 'refresh_token']
    : ['authorization_code', 'refresh_token', 'client_credentials'];
}

/** The shortest and longest access token lifetime a client may be given, in seconds. */
export const ACCESS_TOKEN_LIFETIME_MIN = 30;
export const ACCESS_TOKEN_LIFETIME_MAX = 86_400;

/** What a client may do beyond its redirect URIs and scopes (in every client item). */
export interface OAuthClientSettings {
  /** Its grants: the registered ones, else its kind's defaults. */
  grantTypes: string[];
  /** Its access tokens' lifetime in seconds; null: the server's (never longer than that). */
  accessTokenLifetime: number | null;
  /** Where its back-channel logout tokens go; null: none. */
  backchannelLogoutUri: string | null;
  /** Its authorization requests must come through the PAR endpoint (RFC 9126). */
  requirePushedAuthorizationRequests: boolean;
  /** Its access tokens must be DPoP-bound (RFC 9449). */
  dpopBoundAccessTokens: boolean;
  /** Its users are not asked for consent (only for the operator's own applications). */
  firstParty: boolean;
}

/**
 * `PATCH /api/admin/clients/{clientId}`: only what changes. A null `grantTypes` goes back to
 * the defaults, a null `accessTokenLifetime` to the server's, a null `backchannelLogoutUri`
 * removes it. The answer is the updated client item; a 400 says what is wrong.
 */
export interface OAuthClientChange {
  name?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  scopes?: string[];
  idTokenSignedResponseAlg?: string;
  grantTypes?: string[] | null;
  accessTokenLifetime?: number | null;
  backchannelLogoutUri?: string | null;
  requirePushedAuthorizationRequests?: boolean;
  dpopBoundAccessTokens?: boolean;
  firstParty?: boolean;
}

/** `POST /api/oauth/device` (signed in): the code the user read on their device, as typed. */
export interface DeviceVerification {
  userCode: string;
}

/**
 * Its answer: the device's sign-in request, for the consent page (`/oauth/consent?request=`).
 * An unknown or expired code is a 404 (`device_code_unknown`); too many tries a 429.
 */
export interface DeviceVerified {
  request: string;
}
