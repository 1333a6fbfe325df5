// A real relying party, openid-client v6, signing alice in through Portcullis. Run by
// tests/oidc-rp/run, with ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// POST_LOGOUT_REDIRECT_URI, RP_USERNAME, RP_EMAIL, RP_PASSWORD and EXPECTED_ALG set.
// The browser's part (sign-in, consent) is played with plain HTTP calls; everything the
// relying party does is done by the library, which checks the ID tokens' signatures against
// the published keys (enableNonRepudiationChecks), the callback's state and iss, PKCE and
// the nonce. Prints a line per step; exits 1 at the first failure.
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const CLIENT_ID = env('CLIENT_ID');
const CLIENT_SECRET = env('CLIENT_SECRET');
const REDIRECT_URI = env('REDIRECT_URI');
const POST_LOGOUT_REDIRECT_URI = env('POST_LOGOUT_REDIRECT_URI');
const USERNAME = env('RP_USERNAME');
const EMAIL = env('RP_EMAIL');
const PASSWORD = env('RP_PASSWORD');
const EXPECTED_ALG = env('EXPECTED_ALG');
// Access tokens follow PORTCULLIS_ACCESS_TOKEN_ALG, ID tokens the client's registration.
const EXPECTED_ACCESS_ALG = env('EXPECTED_ACCESS_ALG');
const SCOPE = 'openid profile email roles offline_access';

let step = 0;
const ok = (what) => console.log(`  ok ${++step} - ${what}`);

// ---- the user agent: a cookie jar and redirects not followed ----------------------------

class Browser {
  constructor() {
    this.cookies = new Map();
  }
  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  remember(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  async fetch(url, init = {}) {
    const headers = new Headers(init.headers ?? {});
    if (this.cookies.size) headers.set('cookie', this.cookieHeader());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.remember(res);
    return res;
  }
}

/** Reads the body only when the status is wrong, so a passing check leaves it unread. */
async function expectStatus(res, status, what) {
  if (res.status !== status) assert.fail(`${what}: ${await describe(res)}`);
}

const describe = async (res) => `${res.status} ${res.headers.get('location') ?? ''} ${await res.text()}`;

/** Signs the user in at Portcullis' own API, as the web app does. */
async function signIn() {
  const browser = new Browser();
  const res = await browser.fetch(new URL('/api/auth/signin', ISSUER), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
  });
  await expectStatus(res, 200, 'signin');
  const body = await res.json();
  assert.ok(body.accessToken, 'signin answers accessToken');
  assert.ok(browser.cookies.has('portcullis_access'), 'signin sets portcullis_access');
  assert.ok(browser.cookies.has('portcullis_refresh'), 'signin sets portcullis_refresh');
  return { browser, accessToken: body.accessToken, cookies: new Map(browser.cookies) };
}

/** Takes the browser to the authorization URL; consents if asked. Returns the callback URL. */
async function authorize(browser, authorizationUrl) {
  const res = await browser.fetch(authorizationUrl);
  await expectStatus(res, 302, 'authorize');
  const location = new URL(res.headers.get('location'), ISSUER);
  if (location.href.startsWith(REDIRECT_URI)) return { callback: location, consented: false };
  assert.equal(location.origin + location.pathname, new URL('/oauth/consent', ISSUER).href,
    `authorize sends to the redirect URI or the consent page, not ${location.href}`);
  const request = location.searchParams.get('request');
  assert.ok(request, 'the consent page URL carries request=');
  const info = await browser.fetch(new URL(`/api/oauth/requests/${encodeURIComponent(request)}`, ISSUER));
  await expectStatus(info, 200, 'GET the request');
  const details = await info.json();
  assert.equal(details.client.clientId, CLIENT_ID);
  assert.deepEqual([...details.scopes].sort(), SCOPE.split(' ').sort());
  const answer = await browser.fetch(new URL(`/api/oauth/requests/${encodeURIComponent(request)}`, ISSUER), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ approve: true }),
  });
  await expectStatus(answer, 200, 'approve');
  const { redirectTo } = await answer.json();
  assert.ok(redirectTo?.startsWith(REDIRECT_URI), `redirectTo ${redirectTo}`);
  return { callback: new URL(redirectTo), consented: true };
}

/** A whole sign-in through the library: returns the tokens, the checks and the browser. */
async function login(config, { expectConsent }) {
  const session = await signIn();
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const code_challenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { callback, consented } = await authorize(session.browser, url);
  assert.equal(consented, expectConsent, expectConsent ? 'the first request asks for consent' : 'a consented request gets its code at once');
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), ISSUER);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { ...session, tokens, nonce };
}

async function expectOAuthError(promise, error, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof client.ResponseBodyError) {
      assert.equal(e.error, error, `${what}: error ${e.error} (${e.error_description}), status ${e.status}`);
      return e;
    }
    throw e;
  }
  assert.fail(`${what}: succeeded, ${error} expected`);
}

async function expectInvalidToken(promise, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof client.WWWAuthenticateChallengeError) {
      assert.equal(e.status, 401, what);
      assert.equal(e.cause[0]?.parameters?.error, 'invalid_token', `${what}: ${JSON.stringify(e.cause)}`);
      return;
    }
    throw e;
  }
  assert.fail(`${what}: succeeded, 401 invalid_token expected`);
}

// ---- the relying party -------------------------------------------------------------------

async function main() {
  console.log(`openid-client relying party against ${ISSUER} (${EXPECTED_ALG})`);

  const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, ISSUER);
  for (const [key, path] of [
    ['authorization_endpoint', '/api/oauth/authorize'],
    ['token_endpoint', '/api/oauth/token'],
    ['userinfo_endpoint', '/api/oauth/userinfo'],
    ['revocation_endpoint', '/api/oauth/revoke'],
    ['introspection_endpoint', '/api/oauth/introspect'],
    ['end_session_endpoint', '/api/oauth/logout'],
    ['jwks_uri', '/.well-known/jwks.json'],
  ]) {
    assert.equal(meta[key], ISSUER + path, key);
  }
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(meta.response_types_supported, ['code']);
  assert.ok(meta.id_token_signing_alg_values_supported.includes(EXPECTED_ALG),
    `id_token_signing_alg_values_supported ${meta.id_token_signing_alg_values_supported}`);
  for (const scope of SCOPE.split(' ')) assert.ok(meta.scopes_supported.includes(scope), `scopes_supported has ${scope}`);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  ok(`discovery: issuer, endpoints, S256, ${EXPECTED_ALG}`);

  // 1. Code flow with PKCE, state and nonce; the library checks the ID token.
  const first = await login(config, { expectConsent: true });
  ok('signin, authorization request, consent page, approval: a callback with code, state and iss');
  const t = first.tokens;
  assert.equal(t.token_type.toLowerCase(), 'bearer');
  assert.ok(t.access_token && t.id_token && t.refresh_token, 'access, ID and refresh tokens');
  assert.ok(t.expires_in > 0, 'expires_in');
  assert.deepEqual(t.scope.split(' ').sort(), SCOPE.split(' ').sort());
  const claims = t.claims();
  const idHeader = JSON.parse(Buffer.from(t.id_token.split('.')[0], 'base64url'));
  assert.equal(idHeader.alg, EXPECTED_ALG, 'the ID token alg');
  assert.ok(idHeader.kid, 'the ID token has a kid');
  assert.equal(claims.iss, ISSUER);
  assert.ok(claims.aud === CLIENT_ID || (Array.isArray(claims.aud) && claims.aud.includes(CLIENT_ID)), 'aud');
  assert.equal(claims.azp, CLIENT_ID);
  assert.match(claims.sub, /^\d+$/, 'sub is the account id as a string');
  assert.equal(claims.preferred_username, USERNAME);
  assert.equal(claims.email, EMAIL);
  assert.equal(claims.email_verified, true);
  assert.ok(Array.isArray(claims.roles) && claims.roles.includes('moderator'), `roles ${JSON.stringify(claims.roles)}`);
  assert.equal(claims.nonce, first.nonce);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(claims.acr, '1');
  assert.ok(claims.sid && claims.at_hash && claims.auth_time, 'sid, at_hash, auth_time');
  ok(`code grant: ID token (${idHeader.alg}) verified by the library; sub ${claims.sub}, alice, email, roles ${claims.roles}, nonce, amr pwd`);

  const atHeader = JSON.parse(Buffer.from(t.access_token.split('.')[0], 'base64url'));
  assert.equal(atHeader.typ, 'at+jwt');
  assert.equal(atHeader.alg, EXPECTED_ACCESS_ALG);

  const info = await client.fetchUserInfo(config, t.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.preferred_username, USERNAME);
  assert.equal(info.email, EMAIL);
  assert.ok(info.roles.includes('moderator'));
  ok('userinfo: the same sub, alice, email, roles');

  // 2. Refresh: rotation, then a reuse ends the grant.
  const refreshed = await client.refreshTokenGrant(config, t.refresh_token);
  assert.ok(refreshed.refresh_token, 'a rotated refresh token');
  assert.notEqual(refreshed.refresh_token, t.refresh_token, 'the refresh token rotated');
  assert.notEqual(refreshed.access_token, t.access_token, 'a new access token');
  await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  ok('refresh: a new access token (works at userinfo) and a new refresh token');

  await expectOAuthError(client.refreshTokenGrant(config, t.refresh_token), 'invalid_grant', 'the spent refresh token again');
  ok('the spent refresh token again: invalid_grant');
  await expectOAuthError(client.refreshTokenGrant(config, refreshed.refresh_token), 'invalid_grant', 'the newest refresh token after the reuse');
  ok('the newest refresh token after that reuse: invalid_grant (the grant is ended)');
  await expectInvalidToken(client.fetchUserInfo(config, refreshed.access_token, claims.sub), 'userinfo with the ended grant\'s access token');
  ok('the ended grant\'s access token at userinfo: 401 invalid_token');

  // 3. A fresh login (consent remembered), introspection, revocation.
  const second = await login(config, { expectConsent: false });
  const s = second.tokens;
  const sclaims = s.claims();
  assert.equal(sclaims.sub, claims.sub);
  assert.equal(sclaims.nonce, second.nonce);
  ok('a fresh signin and request: code at once (consent remembered), ID token verified');

  let intro = await client.tokenIntrospection(config, s.access_token);
  assert.equal(intro.active, true, JSON.stringify(intro));
  assert.equal(intro.client_id, CLIENT_ID);
  assert.equal(intro.sub, claims.sub);
  assert.equal(intro.username, USERNAME);
  assert.equal(intro.iss, ISSUER);
  assert.ok(intro.exp > Date.now() / 1000, 'exp in the future');
  assert.deepEqual(intro.scope.split(' ').sort(), SCOPE.split(' ').sort());
  ok('introspection: active, client_id, sub, username, iss, scope');

  const refreshIntro = await client.tokenIntrospection(config, s.refresh_token);
  assert.equal(refreshIntro.active, false, 'a refresh token is not an access token');
  ok('introspection of a refresh token: inactive');

  await client.tokenRevocation(config, s.access_token);
  ok('revocation of the access token: 200');
  intro = await client.tokenIntrospection(config, s.access_token);
  assert.equal(intro.active, false, JSON.stringify(intro));
  ok('introspection after revocation: inactive');
  await expectInvalidToken(client.fetchUserInfo(config, s.access_token, claims.sub), 'userinfo after revocation');
  await expectOAuthError(client.refreshTokenGrant(config, s.refresh_token), 'invalid_grant', 'the revoked grant\'s refresh token');
  ok('after revocation: userinfo 401, the grant\'s refresh token invalid_grant');
  await client.tokenRevocation(config, 'not-a-token-we-issued');
  ok('revocation of an unknown token: 200');

  // 4. RP-initiated logout ends the browser's first-party session.
  const me = async (headers) => (await fetch(new URL('/api/auth/me', ISSUER), { headers })).status;
  const cookieOf = (map, names) => names.map((n) => `${n}=${map.get(n)}`).join('; ');
  assert.equal(await me({ cookie: cookieOf(second.cookies, ['portcullis_access', 'portcullis_refresh']) }), 200);
  assert.equal(await me({ authorization: `Bearer ${second.accessToken}` }), 200);
  ok('before logout: /api/auth/me is 200 with the signin\'s cookies and with its Bearer token');

  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: s.id_token,
    post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
    state: logoutState,
  });
  const out = await second.browser.fetch(endSession);
  await expectStatus(out, 302, 'end session');
  const bye = new URL(out.headers.get('location'), ISSUER);
  assert.equal(bye.origin + bye.pathname, POST_LOGOUT_REDIRECT_URI);
  assert.equal(bye.searchParams.get('state'), logoutState);
  ok(`end session: 302 to ${bye.origin}${bye.pathname} with the state`);

  assert.equal(await me({ cookie: cookieOf(second.cookies, ['portcullis_access', 'portcullis_refresh']) }), 401);
  assert.equal(await me({ cookie: cookieOf(second.cookies, ['portcullis_refresh']) }), 401);
  assert.equal(await me({ authorization: `Bearer ${second.accessToken}` }), 401);
  ok('after logout: /api/auth/me is 401 with the signin\'s cookies, its refresh cookie alone, and its Bearer token');

  // The first browser session (the first signin) is someone else's business: still live.
  assert.equal(await me({ authorization: `Bearer ${first.accessToken}` }), 200);
  ok('the other signin\'s session is untouched: /api/auth/me 200');

  console.log(`openid-client: all ${step} checks passed`);
}

main().catch((e) => {
  console.error(`  FAILED after step ${step}:`, e);
  if (e?.cause) console.error('  cause:', e.cause);
  process.exit(1);
});
