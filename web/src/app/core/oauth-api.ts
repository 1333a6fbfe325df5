/**
 * The OpenID Connect provider's JSON: aliases of the schemas in api.generated.ts (generated
 * from the server's OpenAPI document, which has these routes), as in api.models.ts, plus the
 * scopes and ID token algorithms the forms offer.
 */
import type { components } from './api.generated';

type Schemas = components['schemas'];

/** The scopes a client may be registered for and ask for, in the server's order. */
export const OAUTH_SCOPES = ['openid', 'profile', 'email', 'roles', 'offline_access'] as const;

export type OAuthScope = (typeof OAUTH_SCOPES)[number];

/** What each scope lets an application know or do, as the consent page says it. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<OAuthScope, string>> = {
  openid: 'Know who you are (your account id)',
  profile: 'Your username',
  email: 'Your email address',
  roles: 'Your roles (user, moderator, admin)',
  offline_access: 'Stay signed in when you are away (a refresh token)',
};

/** A scope's explanation; a scope the app does not know is shown by its name. */
export function describeScope(scope: string): string {
  return (SCOPE_DESCRIPTIONS as Record<string, string | undefined>)[scope] ?? scope;
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
export type OAuthRequestInfo = Schemas['RequestBody'];

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
export type OAuthClient = Omit<Schemas['ClientItem'], 'clientSecret'>;

/** `POST /api/admin/clients`; `idTokenSignedResponseAlg` is one of `ID_TOKEN_ALGS` (RS256 when absent). */
export type NewOAuthClient = Schemas['CreateClientRequest'];

/** Its 201 answer: the client, with its secret (confidential clients only), shown this once. */
export type CreatedOAuthClient = Schemas['ClientItem'];
