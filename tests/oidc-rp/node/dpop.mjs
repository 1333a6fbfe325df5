// DPoP (RFC 9449) with openid-client v6: tokens bound to a key of the relying party's own
// (getDPoPHandle with randomDPoPKeyPair), which the library then proves at the token and
// userinfo endpoints. Run by tests/oidc-rp/run after the other openid-client scripts, with
// clients of its own:
//   DPOP_CLIENT_ID, DPOP_CLIENT_SECRET       a confidential client (DPoP optional)
//   STRICT_CLIENT_ID, STRICT_CLIENT_SECRET   one registered with --require-dpop
//   DPOP_REDIRECT_URI                        the redirect URI of both
// and ISSUER, RP_USERNAME, RP_EMAIL, RP_PASSWORD, EXPECTED_ALG, EXPECTED_ACCESS_ALG as for
// rp.mjs. The browser's part (sign-in, consent) is played with plain HTTP calls to the
// server's API, as the web app makes them; what goes over the wire from the library is
// recorded (customFetch) so that its proofs can be looked at and replayed. The thumbprints
// (RFC 7638) are jose's, computed from the public keys here, not taken from the library.
// Prints a line per check; exits 1 at the first failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const CLIENT_ID = env('DPOP_CLIENT_ID');
const CLIENT_SECRET = env('DPOP_CLIENT_SECRET');
const STRICT_CLIENT_ID = env('STRICT_CLIENT_ID');
const STRICT_CLIENT_SECRET = env('STRICT_CLIENT_SECRET');
const REDIRECT_URI = env('DPOP_REDIRECT_URI');
const USERNAME = env('RP_USERNAME');
const EMAIL = env('RP_EMAIL');
const PASSWORD = env('RP_PASSWORD');
const EXPECTED_ALG = env('EXPECTED_ALG');
const EXPECTED_ACCESS_ALG = env('EXPECTED_ACCESS_ALG');
const SCOPE = 'openid profile email roles offline_access';
const TOKEN_URL = `${ISSUER}/api/oauth/token`;
const USERINFO_URL = `${ISSUER}/api/oauth/userinfo`;

let step = 0;
const ok = (what) => console.log(`  ok ${++step} - ${what}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

// ---- the user agent: a cookie jar and redirects not followed ----------------------------

class Browser {
  constructor() {
    this.cookies = new Map();
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
  assert.ok(browser.cookies.has('portcullis_access'), 'signin sets portcullis_access');
  return browser;
}

/**
 * Takes the browser to an authorization URL of `clientId`; approves on the consent page if
 * sent there. The callback URL.
 */
async function authorize(browser, url, clientId) {
  const res = await browser.fetch(url);
  await expectStatus(res, 302, `authorize ${url}`);
  const location = new URL(res.headers.get('location'), ISSUER);
  if (location.href.startsWith(REDIRECT_URI)) return location;
  assert.equal(location.origin + location.pathname, `${ISSUER}/oauth/consent`,
    `authorize sends to the redirect URI or the consent page, not ${location.href}`);
  const path = `/api/oauth/requests/${encodeURIComponent(location.searchParams.get('request'))}`;
  const info = await browser.json(path);
  await expectStatus(info, 200, 'GET the request');
  assert.equal((await info.json()).client.clientId, clientId);
  const answer = await browser.json(path, { approve: true });
  await expectStatus(answer, 200, 'approve');
  const { redirectTo } = await answer.json();
  assert.ok(redirectTo?.startsWith(REDIRECT_URI), `redirectTo ${redirectTo}`);
  return new URL(redirectTo);
}

/** Signs alice in and takes her through an authorization request of `config`'s client: the callback and its checks. */
async function authorizationResponse(config, clientId) {
  const browser = await signIn();
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await authorize(browser, url, clientId);
  assert.equal(callback.searchParams.get('state'), state);
  assert.ok(callback.searchParams.get('code'), `a code: ${callback}`);
  return { callback, checks: { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
}

async function expectOAuthError(promise, error, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof client.ResponseBodyError) {
      assert.equal(e.error, error, `${what}: error ${e.error} (${e.error_description}), status ${e.status}`);
      assert.equal(e.status, 400, `${what}: status`);
      return e;
    }
    throw e;
  }
  assert.fail(`${what}: succeeded, ${error} expected`);
}

/** The library's rejection of a 401 with a WWW-Authenticate challenge: that challenge. */
async function expectChallenge(promise, scheme, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof client.WWWAuthenticateChallengeError) {
      assert.equal(e.status, 401, what);
      const challenge = e.cause[0];
      assert.equal(challenge?.scheme, scheme, `${what}: ${JSON.stringify(e.cause)}`);
      assert.equal(challenge.parameters.error, 'invalid_token', `${what}: ${JSON.stringify(e.cause)}`);
      return challenge;
    }
    throw e;
  }
  assert.fail(`${what}: succeeded, 401 invalid_token expected`);
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url'));
const header = (jwt) => b64json(jwt.split('.')[0]);
const payload = (jwt) => b64json(jwt.split('.')[1]);
const ath = (token) => createHash('sha256').update(token).digest('base64url');

/** RFC 7638's thumbprint of a key pair's public key (jose's, not the library's). */
async function thumbprint(keyPair) {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

/**
 * The library's requests to the token and userinfo endpoints, as sent (headers are a plain
 * object of lower-case names), with the token endpoint's raw answer.
 */
function recordingFetch(log) {
  return async (url, options) => {
    const res = await fetch(url, options);
    const path = new URL(url).pathname;
    if (path === '/api/oauth/token' || path === '/api/oauth/userinfo') {
      log.push({
        path,
        method: options.method,
        headers: { ...options.headers },
        body: options.body?.toString(),
        status: res.status,
        answer: path === '/api/oauth/token' ? await res.clone().json().catch(() => null) : undefined,
      });
    }
    return res;
  };
}

/** The last request the library made to `path`. */
const lastTo = (log, path) => {
  const entry = log.findLast((l) => l.path === path);
  assert.ok(entry, `the library made a request to ${path}`);
  return entry;
};

/** A proof the library sent: its header and claims, checked against the request it was for. */
function checkProof(proof, { htm, htu, jwk, token }) {
  assert.ok(proof, 'the request carried a DPoP header');
  const h = header(proof);
  const c = payload(proof);
  assert.equal(h.typ, 'dpop+jwt');
  assert.deepEqual(h.jwk, jwk, 'the public key in the header');
  assert.equal(c.htm, htm);
  assert.equal(c.htu, htu);
  assert.ok(c.jti, 'jti');
  assert.ok(Math.abs(c.iat - Date.now() / 1000) < 60, `iat ${c.iat}`);
  if (token) assert.equal(c.ath, ath(token), 'ath is the access token\'s hash');
  else assert.equal(c.ath, undefined, 'no ath at the token endpoint');
  return { header: h, claims: c };
}

/** A token response of the library, and the raw one it read, for a DPoP-bound token of `jkt`. */
function checkBound(tokens, raw, jkt, what) {
  assert.equal(raw?.token_type, 'DPoP', `${what}: the server's token_type: ${JSON.stringify(raw)}`);
  assert.equal(tokens.token_type, 'dpop', `${what}: the library's token_type`);
  const h = header(tokens.access_token);
  assert.equal(h.typ, 'at+jwt');
  assert.equal(h.alg, EXPECTED_ACCESS_ALG);
  assert.deepEqual(payload(tokens.access_token).cnf, { jkt }, `${what}: cnf.jkt is the key's thumbprint`);
}

// ---- the checks ----------------------------------------------------------------------------

async function main() {
  console.log(`openid-client: DPoP against ${ISSUER} (ID tokens ${EXPECTED_ALG}, access tokens ${EXPECTED_ACCESS_ALG})`);
  const log = [];
  const options = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] };
  const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined, options);
  config[client.customFetch] = recordingFetch(log);
  const meta = config.serverMetadata();
  const algs = meta.dpop_signing_alg_values_supported;
  for (const alg of ['ES256', 'PS256', 'EdDSA']) assert.ok(algs?.includes(alg), `dpop_signing_alg_values_supported ${algs} has ${alg}`);
  for (const alg of ['none', 'HS256']) assert.ok(!algs.includes(alg), `dpop_signing_alg_values_supported ${algs} has no ${alg}`);

  const keyPair = await client.randomDPoPKeyPair(); // ES256
  const jwk = await exportJWK(keyPair.publicKey);
  const jkt = await thumbprint(keyPair);
  const DPoP = client.getDPoPHandle(config, keyPair);

  // 1. The code flow with the handle: the tokens are bound to the key.
  const { callback, checks } = await authorizationResponse(config, CLIENT_ID);
  const tokens = await client.authorizationCodeGrant(config, callback, checks, undefined, { DPoP });
  const codeRequest = lastTo(log, '/api/oauth/token');
  assert.equal(codeRequest.status, 200);
  checkProof(codeRequest.headers.dpop, { htm: 'POST', htu: TOKEN_URL, jwk });
  checkBound(tokens, codeRequest.answer, jkt, 'the code grant');
  assert.ok(tokens.id_token && tokens.refresh_token, 'an ID token and a refresh token');
  const claims = tokens.claims();
  assert.equal(header(tokens.id_token).alg, EXPECTED_ALG);
  assert.equal(claims.preferred_username, USERNAME);
  assert.equal(claims.azp, CLIENT_ID);
  ok(`discovery: dpop_signing_alg_values_supported ${algs.join(' ')}; the code grant with an ES256 DPoP handle: `
    + `token_type "DPoP" (the library: "dpop"), the access token's cnf.jkt is the key's RFC 7638 thumbprint ${jkt}; ID token verified`);

  // 2. Userinfo through the library with the handle.
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
  assert.equal(info.sub, claims.sub);
  assert.equal(info.preferred_username, USERNAME);
  assert.equal(info.email, EMAIL);
  const infoRequest = lastTo(log, '/api/oauth/userinfo');
  assert.equal(infoRequest.status, 200);
  assert.equal(infoRequest.headers.authorization, `DPoP ${tokens.access_token}`);
  checkProof(infoRequest.headers.dpop, { htm: 'GET', htu: USERINFO_URL, jwk, token: tokens.access_token });
  ok('fetchUserInfo with the handle (Authorization: DPoP, a proof with htm GET, htu, ath): alice, email');

  // 3. The stolen token: without the key it is refused, whichever way it is presented.
  let res = await fetch(USERINFO_URL, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(res.status, 401, 'as a Bearer token');
  const bearerChallenge = res.headers.get('www-authenticate');
  assert.match(bearerChallenge, /^Bearer error="invalid_token"/, `the challenge: ${bearerChallenge}`);
  await expectChallenge(client.fetchUserInfo(config, tokens.access_token, claims.sub), 'bearer',
    'the library with the token, without a handle (Bearer)');
  const thiefKeys = await client.randomDPoPKeyPair();
  const thief = client.getDPoPHandle(config, thiefKeys);
  const thiefChallenge = await expectChallenge(client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: thief }),
    'dpop', "the library with the token and another key's handle");
  assert.ok(thiefChallenge.parameters.algs?.split(' ').includes('ES256'), `algs in the DPoP challenge: ${JSON.stringify(thiefChallenge)}`);
  checkProof(lastTo(log, '/api/oauth/userinfo').headers.dpop, {
    htm: 'GET', htu: USERINFO_URL, jwk: await exportJWK(thiefKeys.publicKey), token: tokens.access_token,
  });
  res = await fetch(USERINFO_URL, { headers: { authorization: `DPoP ${tokens.access_token}` } });
  assert.equal(res.status, 401, 'the DPoP scheme without a proof');
  ok(`the stolen access token: as a Bearer token 401 (${bearerChallenge}); the library without a handle and with another key's handle `
    + `rejects (WWWAuthenticateChallengeError: Bearer / DPoP error="invalid_token", algs="${thiefChallenge.parameters.algs}"); DPoP scheme, no proof: 401`);

  // 4. Refresh: the grant's refresh token needs a proof of its key.
  await expectOAuthError(client.refreshTokenGrant(config, tokens.refresh_token), 'invalid_dpop_proof',
    'a refresh without DPoP');
  await expectOAuthError(client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: thief }),
    'invalid_dpop_proof', "a refresh with another key's handle");
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  const refreshRequest = lastTo(log, '/api/oauth/token');
  checkProof(refreshRequest.headers.dpop, { htm: 'POST', htu: TOKEN_URL, jwk });
  checkBound(refreshed, refreshRequest.answer, jkt, 'the refresh');
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'the refresh token rotated');
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal((await client.fetchUserInfo(config, refreshed.access_token, claims.sub, { DPoP })).sub, claims.sub);
  const intro = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(intro.active, true, JSON.stringify(intro));
  assert.equal(intro.token_type, 'DPoP', JSON.stringify(intro));
  assert.deepEqual(intro.cnf, { jkt }, JSON.stringify(intro));
  await expectOAuthError(client.refreshTokenGrant(config, refreshed.refresh_token), 'invalid_dpop_proof',
    'the rotated refresh token without DPoP');
  const again = await client.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP });
  checkBound(again, lastTo(log, '/api/oauth/token').answer, jkt, 'the second refresh');
  ok('refreshTokenGrant: without DPoP and with another key 400 invalid_dpop_proof (the grant untouched); with the handle '
    + 'a new DPoP token of the same jkt (works at userinfo; introspection: token_type DPoP, cnf.jkt); the rotated refresh token '
    + 'without DPoP: invalid_dpop_proof, with it: refreshed');

  // 5. A service's own token, with a key of another type.
  const serviceKeys = await client.randomDPoPKeyPair('PS256');
  const serviceJkt = await thumbprint(serviceKeys);
  const service = await client.clientCredentialsGrant(config, undefined, { DPoP: client.getDPoPHandle(config, serviceKeys) });
  const serviceRequest = lastTo(log, '/api/oauth/token');
  assert.equal(header(serviceRequest.headers.dpop).alg, 'PS256');
  checkBound(service, serviceRequest.answer, serviceJkt, 'client_credentials');
  const serviceIntro = await client.tokenIntrospection(config, service.access_token);
  assert.equal(serviceIntro.active, true, JSON.stringify(serviceIntro));
  assert.equal(serviceIntro.token_type, 'DPoP');
  assert.deepEqual(serviceIntro.cnf, { jkt: serviceJkt });
  const plain = await client.clientCredentialsGrant(config);
  assert.equal(lastTo(log, '/api/oauth/token').answer.token_type, 'Bearer');
  assert.equal(payload(plain.access_token).cnf, undefined, 'no cnf without DPoP');
  ok('clientCredentialsGrant with a PS256 handle: token_type DPoP, cnf.jkt the key\'s (introspection agrees); without one: Bearer, no cnf');

  // 6. A client registered with --require-dpop: nothing without a proof.
  const strict = await client.discovery(new URL(ISSUER), STRICT_CLIENT_ID, STRICT_CLIENT_SECRET, undefined, options);
  strict[client.customFetch] = recordingFetch(log);
  const strictKeys = await client.randomDPoPKeyPair('EdDSA');
  const strictJkt = await thumbprint(strictKeys);
  // openid-client signs with an Ed25519 key as alg "Ed25519" (RFC 9864's fully-specified
  // name for EdDSA over Ed25519), which the server takes beside "EdDSA".
  assert.ok(algs.includes('Ed25519'), `discovery names Ed25519: ${algs}`);
  const strictDPoP = client.getDPoPHandle(strict, strictKeys);
  const strictResponse = await authorizationResponse(strict, STRICT_CLIENT_ID);
  const refused = await expectOAuthError(client.authorizationCodeGrant(strict, strictResponse.callback, strictResponse.checks),
    'invalid_dpop_proof', 'the --require-dpop client\'s code grant without DPoP');
  const strictTokens = await client.authorizationCodeGrant(strict, strictResponse.callback, strictResponse.checks, undefined, { DPoP: strictDPoP });
  const strictRequest = lastTo(log, '/api/oauth/token');
  assert.equal(header(strictRequest.headers.dpop).alg, 'Ed25519');
  checkBound(strictTokens, strictRequest.answer, strictJkt, 'the --require-dpop client\'s code grant');
  assert.equal(strictTokens.claims().azp, STRICT_CLIENT_ID);
  assert.equal((await client.fetchUserInfo(strict, strictTokens.access_token, strictTokens.claims().sub, { DPoP: strictDPoP })).preferred_username, USERNAME);
  await expectOAuthError(client.clientCredentialsGrant(strict), 'invalid_dpop_proof', 'the --require-dpop client\'s client_credentials without DPoP');
  checkBound(await client.clientCredentialsGrant(strict, undefined, { DPoP: strictDPoP }), lastTo(log, '/api/oauth/token').answer,
    strictJkt, 'the --require-dpop client\'s client_credentials');
  ok(`--require-dpop client: the code grant without DPoP 400 invalid_dpop_proof ("${refused.error_description}"); `
    + 'the same code with the library\'s Ed25519 key (alg "Ed25519"): a DPoP token of that key (userinfo works); client_credentials likewise refused, then bound');

  // 7. A proof the library sent, replayed by hand.
  await client.fetchUserInfo(config, again.access_token, claims.sub, { DPoP });
  const sent = lastTo(log, '/api/oauth/userinfo');
  assert.equal(sent.status, 200);
  res = await fetch(USERINFO_URL, { headers: { authorization: sent.headers.authorization, dpop: sent.headers.dpop } });
  const replayChallenge = res.headers.get('www-authenticate');
  if (res.status !== 401) assert.fail(`the replayed userinfo proof: ${await describe(res)}`);
  assert.match(replayChallenge, /^DPoP error="invalid_token"/, `the challenge: ${replayChallenge}`);
  assert.equal((await client.fetchUserInfo(config, again.access_token, claims.sub, { DPoP })).sub, claims.sub,
    'a fresh proof of the key still works');
  // The same at the token endpoint: the proof of the last client_credentials request.
  const spent = lastTo(log, '/api/oauth/token');
  res = await fetch(TOKEN_URL, {
    method: 'POST',
    headers: { dpop: spent.headers.dpop, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: STRICT_CLIENT_ID, client_secret: STRICT_CLIENT_SECRET }),
  });
  if (res.status !== 400) assert.fail(`the replayed token endpoint proof: ${await describe(res)}`);
  const replayBody = await res.json();
  assert.equal(replayBody.error, 'invalid_dpop_proof', JSON.stringify(replayBody));
  ok(`replays: the library's userinfo request (Authorization and DPoP headers) sent again by hand: 401 (${replayChallenge}), `
    + `a fresh proof then works; its token endpoint proof sent again: 400 invalid_dpop_proof ("${replayBody.error_description}")`);

  console.log(`openid-client DPoP: all ${step} checks passed in ${elapsed()}`);
}

main().catch((e) => {
  console.error(`  FAILED after step ${step} (${elapsed()}):`, e);
  if (e?.cause) console.error('  cause:', e.cause);
  process.exit(1);
});
