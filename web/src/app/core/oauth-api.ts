/**
 * The OpenID Connect provider's JSON, declared by hand: these routes are not in the server's
 * OpenAPI document yet, so api.generated.ts has no schemas for them. Once it has, these
 * should become aliases of the generated schemas, as in api.models.ts.
 */

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

/** The application a sign-in request comes from. */
export interface OAuthClientRef {
  clientId: string;
  name: string;
}

/**
 * `GET /api/oauth/requests/{token}` (no session needed): the pending sign-in request that
 * `/api/oauth/authorize` sent the browser here with. 404 `oauth_request_unknown` once it has
 * expired or been used.
 */
export interface OAuthRequestInfo {
  client: OAuthClientRef;
  scopes: string[];
  /** The application asked for a fresh sign-in (`prompt=login`). */
  signInRequired: boolean;
  /**
   * The signed-in user allowed these scopes to this client before: the page continues
   * without asking (the authorization endpoint cannot tell when the browser came from
   * another site, which sends no SameSite=Strict cookies).
   */
  alreadyAllowed?: boolean;
}

/** `POST /api/oauth/requests/{token}` (with the session's cookies). */
export interface ConsentDecision {
  approve: boolean;
}

/** Its answer: where the browser goes next (the application's redirect URI, with a code or an error). */
export interface ConsentRedirect {
  redirectTo: string;
}

/** One of `GET /api/oauth/consents`'s items: an application the account has allowed. */
export interface ConnectedApp {
  clientId: string;
  name: string;
  scopes: string[];
  /** RFC 3339. */
  grantedAt: string;
}

/** One of `GET /api/admin/clients`'s items. */
export interface OAuthClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** A browser or mobile app: no secret, PKCE required. */
  public: boolean;
  scopes: string[];
  /** RFC 3339. */
  createdAt: string;
}

/** `POST /api/admin/clients`. */
export interface NewOAuthClient {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  public: boolean;
  scopes: string[];
}

/** Its 201 answer: the client, with its secret (confidential clients only), shown this once. */
export interface CreatedOAuthClient extends OAuthClient {
  clientSecret?: string | null;
}
