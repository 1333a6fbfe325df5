// The newer flows with openid-client v6: pushed authorization requests (RFC 9126, through
// buildAuthorizationUrlWithPAR) and the device authorization grant (RFC 8628, through
// initiateDeviceAuthorization and pollDeviceAuthorizationGrant). Run by tests/oidc-rp/run
// after rp.mjs, with its own clients:
//   PAR_CLIENT_ID, PAR_CLIENT_SECRET         a confidential client that may push
//   STRICT_CLIENT_ID, STRICT_CLIENT_SECRET   one registered with --require-par
//   PAR_REDIRECT_URI                         the redirect URI of both
//   DEVICE_CLIENT_ID                         a public client with the device_code grant
//   RP_APP_ROLE, RP_APP_PERMISSION           an application role of the PAR client (given
//                                            to alice) and the permission it gives
//   RP_GROUP                                 a group alice is in
// and ISSUER, RP_USERNAME, RP_EMAIL, RP_PASSWORD, EXPECTED_ALG, EXPECTED_ACCESS_ALG as for
// rp.mjs. The browser's part (sign-in, consent, typing the user code) is played with plain
// HTTP calls to the server's API, as the web app makes them. Prints a line per step; exits 1
// at the first failure.
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const PAR_CLIENT_ID = env('PAR_CLIENT_ID');
const PAR_CLIENT_SECRET = env('PAR_CLIENT_SECRET');
const STRICT_CLIENT_ID = env('STRICT_CLIENT_ID');
const STRICT_CLIENT_SECRET = env('STRICT_CLIENT_SECRET');
const REDIRECT_URI = env('PAR_REDIRECT_URI');
const DEVICE_CLIENT_ID = env('DEVICE_CLIENT_ID');
const USERNAME = env('RP_USERNAME');
const EMAIL = env('RP_EMAIL');
const PASSWORD = env('RP_PASSWORD');
const EXPECTED_ALG = env('EXPECTED_ALG');
const EXPECTED_ACCESS_ALG = env('EXPECTED_ACCESS_ALG');
const APP_ROLE = env('RP_APP_ROLE');
const APP_PERMISSION = env('RP_APP_PERMISSION');
const GROUP = env('RP_GROUP');
const SCOPE = 'openid profile email roles groups offline_access';
const DEVICE_SCOPE = 'openid profile email offline_access';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
// RFC 8628 §6.1's kind of code, as the server makes them: eight consonants, shown XXXX-XXXX.
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

let step = 0;
const ok = (what) => console.log(`  ok ${++step} - ${what}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

// ---- the user agent: a cookie jar and redirects not followed ----------------------------

class Browser {
  constructor() {
    this.cookies = new Map();
    this.setCookies = [];
  }
  remember(res) {
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line);
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
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.remember(res);
    return res;
  }
  /** A JSON call to the server's API, as the web app makes it (same origin, cookies). */
  json(path, body) {
    return this.fetch(new URL(path, ISSUER), body === undefined ? {} : {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ISSUER },
      body: JSON.stringify(body),
    });
  }
}

const describe = async (res) => `${res.status} ${res.headers.get('location') ?? ''} ${await res.text()}`;

async function expectStatus(res, status, what) {
  if (res.status !== status) assert.fail(`${what}: ${await describe(res)}`);
}

/** Signs the user in at Portcullis' own API, as the web app does: a browser with the session cookies. */
async function signIn() {
  const browser = new Browser();
  const res = await browser.json('/api/auth/signin', { username: USERNAME, password: PASSWORD });
  await expectStatus(res, 200, 'signin');
  for (const name of ['portcullis_access', 'portcullis_refresh', 'portcullis_sso']) {
    assert.ok(browser.cookies.has(name), `signin sets ${name}: ${browser.setCookies.join(' | ')}`);
  }
  return browser;
}

/** The consent page's part: what the request asks (checked by `check`), then the answer. */
async function answer(browser, request, approve, check) {
  const path = `/api/oauth/requests/${encodeURIComponent(request)}`;
  const info = await browser.json(path);
  await expectStatus(info, 200, 'GET the request');
  check(await info.json());
  const res = await browser.json(path, { approve });
  await expectStatus(res, 200, approve ? 'approve' : 'deny');
  return (await res.json()).redirectTo;
}

/**
 * Takes the browser to an authorization URL of `clientId`; approves on the consent page if
 * sent there. The callback URL, and whether consent was asked.
 */
async function authorize(browser, url, clientId) {
  const res = await browser.fetch(url);
  await expectStatus(res, 302, `authorize ${url}`);
  const location = new URL(res.headers.get('location'), ISSUER);
  if (location.href.startsWith(REDIRECT_URI)) return { callback: location, consented: false };
  assert.equal(location.origin + location.pathname, `${ISSUER}/oauth/consent`,
    `authorize sends to the redirect URI or the consent page, not ${location.href}`);
  const redirectTo = await answer(browser, location.searchParams.get('request'), true, (details) => {
    assert.equal(details.client.clientId, clientId);
    assert.deepEqual([...details.scopes].sort(), SCOPE.split(' ').sort());
    assert.equal(details.device, false, 'not a device request');
  });
  assert.ok(redirectTo?.startsWith(REDIRECT_URI), `redirectTo ${redirectTo}`);
  return { callback: new URL(redirectTo), consented: true };
}

async function expectOAuthError(promise, error, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof client.ResponseBodyError || e instanceof client.AuthorizationResponseError) {
      assert.equal(e.error, error, `${what}: error ${e.error} (${e.error_description}), status ${e.status}`);
      return e;
    }
    throw e;
  }
  assert.fail(`${what}: succeeded, ${error} expected`);
}

const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));

/** The ID token's claims (the library checked its signature, iss, aud, exp, nonce). */
function checkTokens(tokens, clientId, scope, { nonce } = {}) {
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.access_token && tokens.id_token, 'an access token and an ID token');
  assert.ok(tokens.refresh_token, 'a refresh token (offline_access)');
  assert.deepEqual(tokens.scope.split(' ').sort(), scope.split(' ').sort());
  assert.equal(header(tokens.id_token).alg, EXPECTED_ALG, 'the ID token alg');
  assert.equal(header(tokens.access_token).alg, EXPECTED_ACCESS_ALG, 'the access token alg');
  const claims = tokens.claims();
  assert.equal(claims.iss, ISSUER);
  assert.ok(claims.aud === clientId || (Array.isArray(claims.aud) && claims.aud.includes(clientId)), 'aud');
  assert.equal(claims.azp, clientId);
  assert.match(claims.sub, /^\d+$/);
  assert.equal(claims.preferred_username, USERNAME);
  assert.equal(claims.email, EMAIL);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.ok(claims.auth_time && claims.at_hash, 'auth_time, at_hash');
  assert.equal(claims.nonce, nonce);
  return claims;
}

/** A code flow whose authorization request goes through the PAR endpoint (the library pushes). */
async function signInWithPar(config, browser, clientId, { expectConsent }) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  assert.equal(url.origin + url.pathname, `${ISSUER}/api/oauth/authorize`);
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'],
    `the browser is sent with client_id and request_uri only: ${url}`);
  assert.equal(url.searchParams.get('client_id'), clientId);
  assert.ok(url.searchParams.get('request_uri').startsWith(REQUEST_URI_PREFIX), url.searchParams.get('request_uri'));
  const { callback, consented } = await authorize(browser, url, clientId);
  assert.equal(consented, expectConsent, expectConsent ? 'consent is asked' : 'the code comes at once (consent remembered)');
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), ISSUER);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { url, tokens, claims: checkTokens(tokens, clientId, SCOPE, { nonce }) };
}

/** The authorization endpoint's answer to a URL, which must not be a redirect: 400, our error shape. */
async function expectRefused(browser, url, what) {
  const res = await browser.fetch(url);
  if (res.status !== 400) assert.fail(`${what}: 400 expected, got ${await describe(res)}`);
  assert.equal(res.headers.get('location'), null, `${what}: no redirect`);
  const body = await res.json();
  assert.equal(body.code, 'oauth_invalid_request', `${what}: ${JSON.stringify(body)}`);
  return body;
}

// ---- pushed authorization requests ------------------------------------------------------

async function pushedAuthorizationRequests() {
  const options = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] };
  const config = await client.discovery(new URL(ISSUER), PAR_CLIENT_ID, PAR_CLIENT_SECRET, undefined, options);
  const meta = config.serverMetadata();
  assert.equal(meta.pushed_authorization_request_endpoint, `${ISSUER}/api/oauth/par`);
  assert.equal(meta.require_pushed_authorization_requests, false);
  assert.equal(meta.device_authorization_endpoint, `${ISSUER}/api/oauth/device_authorization`);
  assert.ok(meta.grant_types_supported.includes(DEVICE_GRANT), `grant_types_supported ${meta.grant_types_supported}`);
  ok('discovery: pushed_authorization_request_endpoint, device_authorization_endpoint, the device grant');

  // The endpoint itself, as RFC 9126 §2 has it: 201, a request_uri, 60 seconds, no-store;
  // the client authenticates as at the token endpoint.
  const form = (extra) => new URLSearchParams({
    response_type: 'code', client_id: PAR_CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid', ...extra,
  });
  let res = await fetch(`${ISSUER}/api/oauth/par`, { method: 'POST', body: form({ client_secret: PAR_CLIENT_SECRET }) });
  await expectStatus(res, 201, 'a push');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const pushed = await res.json();
  assert.ok(pushed.request_uri.startsWith(REQUEST_URI_PREFIX), pushed.request_uri);
  assert.equal(pushed.expires_in, 60);
  res = await fetch(`${ISSUER}/api/oauth/par`, { method: 'POST', body: form({ client_secret: 'wrong' }) });
  assert.equal(res.status, 401, 'a push with a wrong secret');
  assert.equal((await res.json()).error, 'invalid_client');
  res = await fetch(`${ISSUER}/api/oauth/par`, {
    method: 'POST', body: form({ client_secret: PAR_CLIENT_SECRET, redirect_uri: 'http://127.0.0.1:1/elsewhere' }),
  });
  assert.equal(res.status, 400, 'a push with an unregistered redirect URI');
  assert.equal((await res.json()).error, 'invalid_request');
  ok('POST /api/oauth/par: 201 {request_uri urn:…, expires_in 60}, no-store; wrong secret 401 invalid_client; unregistered redirect URI 400');

  // 1. A sign-in through PAR, consent asked the first time.
  const browser = await signIn();
  const first = await signInWithPar(config, browser, PAR_CLIENT_ID, { expectConsent: true });
  ok(`buildAuthorizationUrlWithPAR: authorize?client_id&request_uri → consent → code; tokens verified by the library (ID token ${EXPECTED_ALG}, sub ${first.claims.sub})`);
  const info = await client.fetchUserInfo(config, first.tokens.access_token, first.claims.sub);
  assert.equal(info.preferred_username, USERNAME);
  ok('userinfo with the access token: alice');
  // Issue 25: the client's own application role and the groups, in the ID token the library
  // verified and at userinfo; the permission the role gives, at userinfo only.
  assert.deepEqual(first.claims.roles, ['user', 'moderator', APP_ROLE], 'roles in the ID token');
  assert.deepEqual(first.claims.groups, [GROUP], 'groups in the ID token');
  assert.equal(first.claims.permissions, undefined, 'no permissions in the ID token');
  assert.deepEqual(info.roles, ['user', 'moderator', APP_ROLE]);
  assert.deepEqual(info.groups, [GROUP]);
  assert.deepEqual(info.permissions, [APP_PERMISSION]);
  ok(`roles and groups scopes: ID token roles [user, moderator, ${APP_ROLE}] (its application role), groups [${GROUP}]; userinfo adds permissions [${APP_PERMISSION}]`);

  // 2. The request_uri is spent: the browser sent with it again is refused here, at the
  // authorization endpoint (400, not a redirect to the client).
  await expectRefused(browser, first.url, 'the same request_uri again');
  ok('the same request_uri a second time: 400 at the authorization endpoint, no redirect');

  // 3. A request_uri is its client's alone: another client's id with it is refused, and
  // that does not spend it; its own client then uses it (a code at once: consent remembered).
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const own = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
  });
  const stolen = new URL(own);
  stolen.searchParams.set('client_id', STRICT_CLIENT_ID);
  await expectRefused(browser, stolen, "another client's request_uri");
  const { callback, consented } = await authorize(browser, own, PAR_CLIENT_ID);
  assert.equal(consented, false);
  const again = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState: state, idTokenExpected: true });
  checkTokens(again, PAR_CLIENT_ID, SCOPE);
  ok("a request_uri with another client's client_id: 400; then its own client's browser gets a code at once");

  // 4. A client that must push: a plain authorization URL is an invalid_request at its
  // redirect URI; through PAR it signs in.
  const strict = await client.discovery(new URL(ISSUER), STRICT_CLIENT_ID, STRICT_CLIENT_SECRET, undefined, options);
  const plainState = client.randomState();
  const plain = client.buildAuthorizationUrl(strict, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: plainState,
  });
  res = await browser.fetch(plain);
  await expectStatus(res, 302, 'a plain authorization request of the --require-par client');
  const refused = new URL(res.headers.get('location'));
  assert.equal(refused.origin + refused.pathname, REDIRECT_URI, `to the redirect URI: ${refused}`);
  assert.equal(refused.searchParams.get('error'), 'invalid_request', refused.href);
  assert.equal(refused.searchParams.get('state'), plainState);
  assert.equal(refused.searchParams.get('iss'), ISSUER);
  assert.equal(refused.searchParams.get('code'), null);
  await expectOAuthError(
    client.authorizationCodeGrant(strict, refused, { pkceCodeVerifier: 'x'.repeat(43), expectedState: plainState }),
    'invalid_request', 'the library reading that callback');
  ok(`--require-par client, plain authorization URL: 302 to its redirect URI with error=invalid_request (${refused.searchParams.get('error_description')})`);
  const other = await signInWithPar(strict, browser, STRICT_CLIENT_ID, { expectConsent: true });
  ok('--require-par client through buildAuthorizationUrlWithPAR: consent, code, tokens verified');
  assert.deepEqual(other.claims.roles, ['user', 'moderator'], "another client's application role is not this one's");
  assert.deepEqual(other.claims.groups, [GROUP]);
  ok(`another client's ID token: roles [user, moderator] without ${APP_ROLE}; groups [${GROUP}]`);
}

// ---- the device authorization grant -------------------------------------------------------

/** What the token endpoint answered the library, in order (`error` or 'tokens'). */
function recordingFetch(log) {
  return async (url, options) => {
    const res = await fetch(url, options);
    if (new URL(url).pathname === '/api/oauth/token') {
      const body = await res.clone().json().catch(() => ({}));
      log.push({ at: Date.now(), status: res.status, answer: body.error ?? (body.access_token ? 'tokens' : JSON.stringify(body)) });
    }
    return res;
  };
}

async function waitUntil(condition, what, timeout = 15_000) {
  const end = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

/** The device's raw poll of the token endpoint (a public client: client_id in the form). */
async function poll(deviceCode) {
  const res = await fetch(`${ISSUER}/api/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: DEVICE_CLIENT_ID }),
  });
  return { status: res.status, body: await res.json() };
}

/** The user at /device: types the code (signed in); the consent page's request. */
async function typeCode(browser, userCode) {
  const res = await browser.json('/api/oauth/device', { userCode });
  await expectStatus(res, 200, `POST /api/oauth/device ${userCode}`);
  const { request } = await res.json();
  assert.ok(request, 'the answer names the consent page\'s request');
  return request;
}

function checkDeviceRequest(details) {
  assert.equal(details.client.clientId, DEVICE_CLIENT_ID);
  assert.deepEqual([...details.scopes].sort(), DEVICE_SCOPE.split(' ').sort());
  assert.equal(details.device, true, 'the consent page is told a device asks');
  assert.equal(details.alreadyAllowed, false, 'a device is never allowed without asking');
}

async function deviceGrant() {
  const log = [];
  const options = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] };
  const config = await client.discovery(new URL(ISSUER), DEVICE_CLIENT_ID, undefined, client.None(), options);
  config[client.customFetch] = recordingFetch(log);

  // 1. Approved: the library polls (every 5 s, as told) while the user types the code and
  // allows; the first poll is answered authorization_pending, a later one with the tokens.
  const da = await client.initiateDeviceAuthorization(config, { scope: DEVICE_SCOPE });
  assert.match(da.user_code, USER_CODE);
  assert.equal(da.verification_uri, `${ISSUER}/device`);
  assert.equal(da.verification_uri_complete, `${ISSUER}/device?user_code=${da.user_code}`);
  assert.equal(da.expires_in, 600);
  assert.equal(da.interval, 5);
  assert.ok(da.device_code && da.device_code !== da.user_code, 'a device code');
  ok(`initiateDeviceAuthorization: user_code ${da.user_code}, verification_uri(_complete) at ${ISSUER}/device, expires_in 600, interval 5`);

  const polling = client.pollDeviceAuthorizationGrant(config, da);
  polling.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  const browser = await signIn();
  const request = await typeCode(browser, da.user_code.toLowerCase().replace('-', ' '));
  await waitUntil(() => log.length >= 1, "the library's first poll");
  assert.deepEqual(log.map((l) => l.answer), ['authorization_pending']);
  assert.equal(log[0].status, 400);
  const redirectTo = await answer(browser, request, true, checkDeviceRequest);
  assert.equal(redirectTo, '/device?result=approved');
  const tokens = await polling;
  assert.deepEqual(log.map((l) => l.answer), ['authorization_pending', 'tokens'], JSON.stringify(log));
  assert.ok(log[1].at - log[0].at >= 4_900, `the library waited the interval: ${log[1].at - log[0].at} ms`);
  const claims = checkTokens(tokens, DEVICE_CLIENT_ID, DEVICE_SCOPE);
  ok(`the user types the code (lower case, a space for the dash), sees a device request, allows (→ ${redirectTo}); the library's polls: ${log.map((l) => l.answer).join(', ')}`);
  ok(`pollDeviceAuthorizationGrant: ID token (${EXPECTED_ALG}) verified by the library; sub ${claims.sub}, alice, email, amr pwd, no nonce`);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.preferred_username, USERNAME);
  assert.equal(info.email, EMAIL);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  ok('userinfo: the same sub, alice, email; the refresh token refreshes');

  // The code is spent: the device polling again, or the user typing it again, gets nothing.
  const spent = await poll(da.device_code);
  assert.equal(spent.status, 400);
  assert.equal(spent.body.error, 'invalid_grant', JSON.stringify(spent.body));
  const retyped = await browser.json('/api/oauth/device', { userCode: da.user_code });
  assert.equal(retyped.status, 404, 'the answered code typed again');
  assert.equal((await retyped.json()).code, 'device_code_unknown');
  ok('after the tokens: a poll with the same device code is invalid_grant; the code typed again 404 device_code_unknown');

  // 2. Denied: the library's poll is rejected with access_denied.
  log.length = 0;
  const denied = await client.initiateDeviceAuthorization(config, { scope: DEVICE_SCOPE });
  const deniedPoll = client.pollDeviceAuthorizationGrant(config, denied);
  deniedPoll.catch(() => {});
  const deniedTo = await answer(browser, await typeCode(browser, denied.user_code), false, checkDeviceRequest);
  assert.equal(deniedTo, '/device?result=denied');
  const e = await expectOAuthError(deniedPoll, 'access_denied', 'the denied device');
  assert.equal(e.status, 400);
  assert.deepEqual(log.map((l) => l.answer), ['access_denied']);
  ok('a second device, denied (→ /device?result=denied): pollDeviceAuthorizationGrant rejects with access_denied');

  // 3. A device that polls faster than told: slow_down, and the interval grows by 5 s.
  const hasty = await client.initiateDeviceAuthorization(config, { scope: DEVICE_SCOPE });
  const firstPoll = await poll(hasty.device_code);
  assert.equal(firstPoll.body.error, 'authorization_pending', JSON.stringify(firstPoll.body));
  const secondPoll = await poll(hasty.device_code);
  assert.equal(secondPoll.status, 400);
  assert.equal(secondPoll.body.error, 'slow_down', JSON.stringify(secondPoll.body));
  assert.match(secondPoll.body.error_description, /\b10 seconds\b/, 'the new interval is 5 + 5 s');
  const thirdPoll = await poll(hasty.device_code);
  assert.equal(thirdPoll.body.error, 'slow_down');
  assert.match(thirdPoll.body.error_description, /\b15 seconds\b/, 'and 5 s more');
  ok(`two raw polls at once: authorization_pending, then slow_down ("${secondPoll.body.error_description}"); again: "${thirdPoll.body.error_description}"`);

  // The device authorization endpoint's refusals: a client without the grant, a scope it
  // may not have.
  let res = await fetch(`${ISSUER}/api/oauth/device_authorization`, {
    method: 'POST', body: new URLSearchParams({ client_id: PAR_CLIENT_ID, client_secret: PAR_CLIENT_SECRET, scope: 'openid' }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'unauthorized_client');
  res = await fetch(`${ISSUER}/api/oauth/device_authorization`, {
    method: 'POST', body: new URLSearchParams({ client_id: DEVICE_CLIENT_ID, scope: 'profile' }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'invalid_scope');
  ok('device_authorization: a client without the grant 400 unauthorized_client; a scope without openid 400 invalid_scope');
}

async function main() {
  console.log(`openid-client: PAR and the device grant against ${ISSUER} (${EXPECTED_ALG})`);
  await pushedAuthorizationRequests();
  await deviceGrant();
  console.log(`openid-client flows: all ${step} checks passed in ${elapsed()}`);
}

main().catch((e) => {
  console.error(`  FAILED after step ${step} (${elapsed()}):`, e);
  if (e?.cause) console.error('  cause:', e.cause);
  process.exit(1);
});
