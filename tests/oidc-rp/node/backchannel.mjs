// Back-channel logout (OpenID Connect Back-Channel Logout 1.0) with a relying party of the
// tests' own: a small web application on openid-client v6 with a session store of its own,
// registered with `--backchannel-logout-uri` pointing at its own HTTP server. Run by
// tests/oidc-rp/run, with ISSUER, CLIENT_ID, CLIENT_SECRET, RP_PORT (where it listens: its
// redirect URI is http://127.0.0.1:RP_PORT/cb, its back-channel logout URI
// http://127.0.0.1:RP_PORT/backchannel), RP_USERNAME, RP_PASSWORD and EXPECTED_ALG (the
// client's ID token algorithm, which its logout tokens must be signed with) set.
//
// The application: GET /login starts the authorization code flow (PKCE, state, nonce) and
// GET /cb finishes it through openid-client (the ID token verified by the library); its
// session, keyed by a cookie of its own, remembers the ID token's iss, sub and sid. GET
// /protected answers 200 with the user's claims while that session lives, 401 otherwise.
// POST /backchannel takes a logout token and validates it as §2.6 says (with jose: the
// signature against the provider's JWKS in the client's ID token algorithm, typ logout+jwt,
// iss, aud, iat and exp, the back-channel logout event, sub or sid, no nonce, a jti not seen
// before), then ends the sessions of that iss and sid (and sub) and answers 200; anything
// wrong is a 400 that ends nothing (§2.8).
//
// The browser's part (sign-in, consent) is played with plain HTTP calls, as in rp.mjs; the
// user signs out at Portcullis (POST /api/auth/signout, POST /api/auth/signout-all) as the
// web app does. Prints a line per step; exits 1 at the first failure.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import * as jose from 'jose';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const CLIENT_ID = env('CLIENT_ID');
const CLIENT_SECRET = env('CLIENT_SECRET');
const RP_PORT = Number(env('RP_PORT'));
const USERNAME = env('RP_USERNAME');
const PASSWORD = env('RP_PASSWORD');
const EXPECTED_ALG = env('EXPECTED_ALG');
const RP = `http://127.0.0.1:${RP_PORT}`;
const REDIRECT_URI = `${RP}/cb`;
const BACKCHANNEL_URI = `${RP}/backchannel`;
const SCOPE = 'openid profile email';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How long the test waits for Portcullis to deliver a logout token. */
const DELIVERY_WAIT_MS = 10_000;

let step = 0;
const ok = (what) => console.log(`  ok ${++step} - ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the relying party: a web application with its own sessions --------------------------

class RelyingParty {
  constructor(config) {
    this.config = config;
    const meta = config.serverMetadata();
    this.jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
    /** login id (cookie rp_login) -> { state, nonce, verifier } */
    this.pending = new Map();
    /** session id (cookie rp_session) -> { iss, sub, sid, claims } */
    this.sessions = new Map();
    /** jti -> when it may be forgotten (ms): a token's jti is remembered past its exp. */
    this.seenJti = new Map();
    /** Every POST to the back-channel endpoint: { status, error, claims, token, ended }. */
    this.backchannel = [];
  }

  listen(port) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e?.stack ?? e));
      });
    });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
  }

  close() {
    this.server?.close();
  }

  async handle(req, res) {
    const url = new URL(req.url, RP);
    const cookies = parseCookies(req.headers.cookie);
    if (req.method === 'GET' && url.pathname === '/login') {
      const id = randomBytes(16).toString('base64url');
      const verifier = client.randomPKCECodeVerifier();
      const flow = { state: client.randomState(), nonce: client.randomNonce(), verifier };
      this.pending.set(id, flow);
      const to = client.buildAuthorizationUrl(this.config, {
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
      });
      res.writeHead(302, { location: to.href, 'set-cookie': `rp_login=${id}; Path=/; HttpOnly; SameSite=Lax` }).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/cb') {
      const flow = this.pending.get(cookies.rp_login);
      this.pending.delete(cookies.rp_login);
      if (!flow) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('no login in progress');
        return;
      }
      let tokens;
      try {
        tokens = await client.authorizationCodeGrant(this.config, url, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`sign-in failed: ${e}`);
        return;
      }
      const claims = tokens.claims();
      if (!claims.sid) {
        // This application ends sessions by sid: an ID token without one is of no use.
        res.writeHead(400, { 'content-type': 'text/plain' }).end('the ID token has no sid');
        return;
      }
      const id = randomBytes(16).toString('base64url');
      this.sessions.set(id, { iss: claims.iss, sub: claims.sub, sid: claims.sid, claims, idToken: tokens.id_token });
      res.writeHead(302, {
        location: '/protected',
        'set-cookie': [`rp_session=${id}; Path=/; HttpOnly; SameSite=Lax`, 'rp_login=; Path=/; Max-Age=0'],
      }).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/protected') {
      const session = this.sessions.get(cookies.rp_session);
      if (!session) {
        res.writeHead(401, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ error: 'not signed in' }));
        return;
      }
      const { sub, sid, preferred_username, email } = session.claims;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ sub, sid, preferred_username, email }));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/backchannel') {
      await this.backchannelLogout(req, res);
      return;
    }
    res.writeHead(404).end();
  }

  /** §2.5 to §2.8: a logout token in a form POST; 200 when it is valid (its sessions ended), 400 otherwise. */
  async backchannelLogout(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const record = { status: 400, error: null, claims: null, token: null, ended: 0 };
    this.backchannel.push(record);
    const answer = (status, body) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(body === undefined ? '' : JSON.stringify(body));
    };
    try {
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
        throw new Error(`content-type ${req.headers['content-type']}`);
      }
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token');
      if (!token) throw new Error('no logout_token');
      record.token = token;
      const claims = await this.validateLogoutToken(token);
      record.claims = claims;
      // §2.7: the sessions of that issuer and sid (and sub, when both are given).
      for (const [id, s] of this.sessions) {
        if (s.iss !== claims.iss) continue;
        if (claims.sid !== undefined && s.sid !== claims.sid) continue;
        if (claims.sub !== undefined && s.sub !== claims.sub) continue;
        this.sessions.delete(id);
        record.ended++;
      }
      answer(200);
    } catch (e) {
      record.error = `${e.code ?? e.name}: ${e.message}`;
      answer(400, { error: 'invalid_request', error_description: record.error });
    }
  }

  /** §2.6, every step: the claims of a valid logout token, or an error. */
  async validateLogoutToken(token) {
    // 1. (Not encrypted: this client registered no encryption.) 2.–4. The signature, by a
    //    key in the provider's JWKS, in the algorithm of the client's ID tokens (never
    //    none); iss, aud, iat and exp as for an ID token; typ logout+jwt (§2.4).
    const { payload } = await jose.jwtVerify(token, this.jwks, {
      algorithms: [EXPECTED_ALG],
      typ: 'logout+jwt',
      issuer: ISSUER,
      audience: CLIENT_ID,
      requiredClaims: ['iat', 'exp', 'jti'],
      maxTokenAge: '5 min',
      clockTolerance: 5,
    });
    // 5. sub, sid or both.
    if (typeof payload.sub !== 'string' && typeof payload.sid !== 'string') throw new Error('neither sub nor sid');
    if (payload.sid !== undefined && typeof payload.sid !== 'string') throw new Error('sid is not a string');
    // 6. The back-channel logout event, a JSON object.
    const event = payload.events?.[LOGOUT_EVENT];
    if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new Error(`no ${LOGOUT_EVENT} event`);
    // 7. No nonce.
    if ('nonce' in payload) throw new Error('a nonce: not a logout token');
    // 8. A jti not seen before (remembered until past the token's exp).
    if (typeof payload.jti !== 'string' || !payload.jti) throw new Error('no jti');
    const now = Date.now();
    for (const [jti, until] of this.seenJti) if (until < now) this.seenJti.delete(jti);
    if (this.seenJti.has(payload.jti)) throw new Error(`jti ${payload.jti} seen before: a replay`);
    this.seenJti.set(payload.jti, payload.exp * 1000 + 60_000);
    return payload;
  }
}

function parseCookies(header) {
  const out = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

// ---- the user agent: a cookie jar (Portcullis's and the application's cookies) ----------

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
}

const describe = async (res) => `${res.status} ${res.headers.get('location') ?? ''} ${await res.text()}`;

async function expectStatus(res, status, what) {
  if (res.status !== status) assert.fail(`${what}: ${await describe(res)}`);
}

/** A new browser signed in at Portcullis's own API, as the web app does. */
async function signIn() {
  const browser = new Browser();
  const res = await browser.fetch(new URL('/api/auth/signin', ISSUER), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
  });
  await expectStatus(res, 200, 'signin');
  assert.ok(browser.cookies.has('portcullis_access') && browser.cookies.has('portcullis_refresh'), 'signin cookies');
  return browser;
}

/**
 * The browser signs in to the application: /login, Portcullis's authorization endpoint
 * (consent given when asked, as the consent page does), /cb, /protected. The claims the
 * application shows and whether consent was asked.
 */
async function signInToRp(browser) {
  const login = await browser.fetch(`${RP}/login`);
  await expectStatus(login, 302, 'the application\'s /login');
  const authorize = await browser.fetch(login.headers.get('location'));
  await expectStatus(authorize, 302, 'authorize');
  let callback = new URL(authorize.headers.get('location'), ISSUER);
  let consented = false;
  if (!callback.href.startsWith(REDIRECT_URI)) {
    assert.equal(callback.origin + callback.pathname, new URL('/oauth/consent', ISSUER).href,
      `authorize sends to the redirect URI or the consent page, not ${callback.href}`);
    const request = new URL(`/api/oauth/requests/${encodeURIComponent(callback.searchParams.get('request'))}`, ISSUER);
    const approve = await browser.fetch(request, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ approve: true }),
    });
    await expectStatus(approve, 200, 'approve');
    callback = new URL((await approve.json()).redirectTo);
    assert.ok(callback.href.startsWith(REDIRECT_URI), `redirectTo ${callback.href}`);
    consented = true;
  }
  const back = await browser.fetch(callback);
  await expectStatus(back, 302, 'the application\'s /cb');
  assert.equal(back.headers.get('location'), '/protected');
  assert.ok(browser.cookies.has('rp_session'), 'the application\'s session cookie');
  return { claims: await protectedClaims(browser), consented };
}

/** GET /protected: 200 and the claims. */
async function protectedClaims(browser, what = 'GET /protected with a live session') {
  const res = await browser.fetch(`${RP}/protected`);
  await expectStatus(res, 200, what);
  return res.json();
}

/** Polls /protected until it answers 401; the time that took (ms). */
async function waitForLogout(browser, what) {
  const started = Date.now();
  for (;;) {
    const res = await browser.fetch(`${RP}/protected`);
    if (res.status === 401) return Date.now() - started;
    await expectStatus(res, 200, `${what}: /protected while waiting`);
    await res.arrayBuffer();
    if (Date.now() - started > DELIVERY_WAIT_MS) assert.fail(`${what}: the application's session still lives after ${DELIVERY_WAIT_MS} ms`);
    await sleep(100);
  }
}

/** POSTs a logout token to the application's back-channel endpoint as a third party would. */
async function postLogoutToken(token, contentType = 'application/x-www-form-urlencoded') {
  const body = token === undefined ? '' : new URLSearchParams({ logout_token: token }).toString();
  const res = await fetch(BACKCHANNEL_URI, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: await res.text() };
}

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

/** Logout token claims as Portcullis would make them, about `sid`. */
function logoutClaims(sub, sid) {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: CLIENT_ID, iat, exp: iat + 120, jti: randomUUID(), sub, sid, events: { [LOGOUT_EVENT]: {} } };
}

// ---- the scenario ----------------------------------------------------------------------

async function main() {
  console.log(`back-channel logout: openid-client relying party with its own sessions against ${ISSUER} (${EXPECTED_ALG})`);
  const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, ISSUER);
  assert.equal(meta.backchannel_logout_supported, true, 'backchannel_logout_supported');
  assert.equal(meta.backchannel_logout_session_supported, true, 'backchannel_logout_session_supported');
  ok('discovery: backchannel_logout_supported and backchannel_logout_session_supported true');

  const rp = new RelyingParty(config);
  await rp.listen(RP_PORT);
  try {
    await scenario(rp, meta);
  } finally {
    rp.close();
  }
  console.log(`back-channel logout (openid-client): all ${step} checks passed`);
}

async function scenario(rp, meta) {
  const jwks = await (await fetch(meta.jwks_uri)).json();
  const kids = jwks.keys.map((k) => k.kid);

  // 1. Two browsers (two Portcullis sessions of alice) signed in to the application.
  const a = await signIn();
  const signedA = await signInToRp(a);
  assert.equal(signedA.consented, true, 'the first sign-in asks for consent');
  const { sub, sid: sidA } = signedA.claims;
  assert.match(sub, /^\d+$/);
  assert.ok(sidA, 'the ID token has a sid');
  assert.equal(signedA.claims.preferred_username, USERNAME);
  ok(`browser A: signin at Portcullis, /login, consent, /cb (code exchanged, ID token verified by openid-client): /protected 200 for sub ${sub}, sid ${sidA}`);

  const b = await signIn();
  const signedB = await signInToRp(b);
  assert.equal(signedB.consented, false, 'consent remembered');
  const sidB = signedB.claims.sid;
  assert.equal(signedB.claims.sub, sub);
  assert.ok(sidB && sidB !== sidA, `browser B's own Portcullis session: sid ${sidB}`);
  assert.equal(rp.sessions.size, 2);
  ok(`browser B (another Portcullis session of alice): /protected 200, another sid (${sidB})`);

  // 2. Logout tokens that are not Portcullis's, aimed at A's session: refused with 400,
  //    nothing ended (every session still live answers 200).
  const live = new Map([['A', [a, sidA]], ['B', [b, sidB]]]);
  const refusedNothingEnded = async (token, what, reason, contentType) => {
    const before = rp.backchannel.length;
    const answer = await postLogoutToken(token, contentType);
    assert.equal(answer.status, 400, `${what}: ${answer.body}`);
    assert.equal(rp.backchannel.length, before + 1);
    const error = rp.backchannel.at(-1).error;
    assert.match(error, reason, `${what}: refused for the right reason`);
    for (const [name, [browser, sid]] of live) {
      assert.equal((await protectedClaims(browser, `${name} after ${what}`)).sid, sid);
    }
    assert.equal(rp.sessions.size, live.size);
    return error;
  };
  const unsigned = `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(logoutClaims(sub, sidA))}.`;
  const why1 = await refusedNothingEnded(unsigned, 'an unsigned (alg none) logout token', /ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/);

  // Signed with a key of the test's own, of the right type, under the kid of the
  // provider's key that signed A's ID token.
  const idTokenA = [...rp.sessions.values()].find((s) => s.sid === sidA).idToken;
  const providerKid = b64json(idTokenA.split('.')[0]).kid;
  const { privateKey } = await jose.generateKeyPair(EXPECTED_ALG);
  const forged = await new jose.SignJWT(logoutClaims(sub, sidA))
    .setProtectedHeader({ alg: EXPECTED_ALG, typ: 'logout+jwt', kid: providerKid })
    .sign(privateKey);
  const why2 = await refusedNothingEnded(forged, `a logout token signed with a key of the test's own (${EXPECTED_ALG}, the provider's kid)`,
    /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);

  // A provider-signed JWT for this client that is not a logout token: A's own ID token.
  const why3 = await refusedNothingEnded(idTokenA, 'A\'s ID token posted as a logout token', /ERR_JWT_CLAIM_VALIDATION_FAILED.*typ|nonce|event/);
  await refusedNothingEnded(undefined, 'a POST without logout_token', /no logout_token/);
  ok(`forged logout tokens for A's sid: unsigned (${why1}), signed by another key (${why2}), an ID token (${why3}), none at all: each 400; A and B still 200`);

  // 3. Alice signs out of A's session at Portcullis: the application hears, within seconds.
  const signout = await a.fetch(new URL('/api/auth/signout', ISSUER), { method: 'POST', headers: { accept: 'application/json' } });
  await expectStatus(signout, 200, 'signout at Portcullis');
  const tookA = await waitForLogout(a, 'after signing out at Portcullis');
  live.delete('A');
  const delivered = rp.backchannel.filter((r) => r.status === 200);
  assert.equal(delivered.length, 1, `one logout token accepted: ${JSON.stringify(rp.backchannel.map((r) => [r.status, r.error]))}`);
  const tokenA = delivered[0].token;
  assert.equal(delivered[0].ended, 1, 'it ended one session');
  ok(`POST /api/auth/signout at Portcullis with A's cookies: 200; the application's back-channel endpoint accepted a logout token and A's /protected is 401 after ${tookA} ms`);

  // The token itself, as §2.4 has it.
  const [h, p] = tokenA.split('.');
  const header = b64json(h);
  const claims = b64json(p);
  assert.equal(header.typ, 'logout+jwt');
  assert.equal(header.alg, EXPECTED_ALG, 'signed in the client\'s ID token algorithm');
  assert.ok(kids.includes(header.kid), `kid ${header.kid} is in the JWKS`);
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.aud, CLIENT_ID);
  assert.equal(claims.sub, sub);
  assert.equal(claims.sid, sidA, 'the sid of A\'s ID token');
  assert.deepEqual(claims.events, { [LOGOUT_EVENT]: {} });
  assert.equal(claims.exp - claims.iat, 120);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 30, 'iat is now');
  assert.match(claims.jti, /^[0-9a-f-]{36}$/);
  assert.ok(!('nonce' in claims), 'no nonce');
  assert.deepEqual(Object.keys(claims).sort(), ['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
  ok(`the logout token: typ logout+jwt, ${header.alg}, kid in the JWKS; iss, aud, sub, A's sid, events, exp = iat + 120, a jti, no nonce`);

  assert.equal((await protectedClaims(b, 'B after A\'s signout')).sid, sidB);
  assert.equal(rp.sessions.size, 1);
  ok('B\'s session (another sid of the same user) is untouched: /protected 200');

  // 4. The same token again (same jti): a replay, refused; a token with A's signature but
  //    B's sid: refused. B lives on.
  const why4 = await refusedNothingEnded(tokenA, 'the delivered logout token again', /seen before: a replay/);
  const swapped = `${h}.${b64({ ...claims, sid: sidB })}.${tokenA.split('.')[2]}`;
  const why5 = await refusedNothingEnded(swapped, 'the delivered token with B\'s sid (signature unchanged)', /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  ok(`the delivered token replayed (${why4}), and altered to B's sid (${why5}): 400; B still 200`);

  // 5. Signing out everywhere ends B's session at Portcullis, and so at the application.
  const all = await b.fetch(new URL('/api/auth/signout-all', ISSUER), { method: 'POST', headers: { accept: 'application/json' } });
  await expectStatus(all, 200, 'signout-all at Portcullis');
  const tookB = await waitForLogout(b, 'after signing out everywhere');
  const second = rp.backchannel.filter((r) => r.status === 200);
  assert.equal(second.length, 2, 'a second logout token');
  assert.equal(second[1].claims.sid, sidB);
  assert.notEqual(second[1].claims.jti, claims.jti);
  assert.equal(rp.sessions.size, 0);
  ok(`POST /api/auth/signout-all with B's cookies: B's /protected 401 after ${tookB} ms (a logout token for B's sid, another jti)`);

  // 6. Each ended session was announced once: nothing more comes.
  await sleep(1500);
  const accepted = rp.backchannel.filter((r) => r.status === 200).map((r) => r.claims.sid);
  assert.deepEqual(accepted, [sidA, sidB], `one logout token per ended session: ${JSON.stringify(rp.backchannel.map((r) => [r.status, r.error, r.claims?.sid]))}`);
  ok('one logout token per session, no more afterwards');
}

main().catch((e) => {
  console.error(`  FAILED after step ${step}:`, e);
  if (e?.cause) console.error('  cause:', e.cause);
  process.exit(1);
});
