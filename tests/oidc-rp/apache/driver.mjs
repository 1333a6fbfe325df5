// The browser in front of Apache's mod_auth_openidc (tests/oidc-rp/apache/rp), signing alice
// in through Portcullis. Run with ISSUER, CLIENT_ID, APACHE_PORT, TAMPER_APACHE_PORT,
// TAMPER_PROXY_PORT, POST_CLIENT_ID, POST_APACHE_PORT, RP_USERNAME, RP_EMAIL, RP_PASSWORD,
// EXPECTED_ALG, APACHE_ERROR_LOG and APACHE_ACCESS_LOG set. The client (CLIENT_ID) must be
// registered with the back-channel logout URI
// http://127.0.0.1:$APACHE_PORT/protected/redirect_uri?logout=backchannel.
// Everything the relying party does (the authorization request with state, nonce and PKCE,
// the code exchange with client_secret_basic, the ID token's signature against the JWKS,
// iss, aud, nonce, userinfo, the session, logout) is mod_auth_openidc's own doing; this
// script only follows redirects with a cookie jar and plays the user at Portcullis's API,
// as the web app's pages do. It also runs the tampering proxy that the second virtual host
// gets its provider metadata and token responses from. The third virtual host
// (OIDCProviderAuthRequestMethod POST, its own client) answers with a page whose script
// submits a form to the authorization endpoint: the browser here posts that form, as a
// browser running the script would. Prints a line per step; exits 1 at the first failure.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const CLIENT_ID = env('CLIENT_ID');
const USERNAME = env('RP_USERNAME');
const EMAIL = env('RP_EMAIL');
const PASSWORD = env('RP_PASSWORD');
const EXPECTED_ALG = env('EXPECTED_ALG');
const ERROR_LOG = env('APACHE_ERROR_LOG');
const ACCESS_LOG = env('APACHE_ACCESS_LOG');
const APACHE = `http://127.0.0.1:${env('APACHE_PORT')}`;
const TAMPER_APACHE = `http://127.0.0.1:${env('TAMPER_APACHE_PORT')}`;
const PROXY_PORT = Number(env('TAMPER_PROXY_PORT'));
const PROXY = `http://127.0.0.1:${PROXY_PORT}`;
const POST_CLIENT_ID = env('POST_CLIENT_ID');
const POST_APACHE = `http://127.0.0.1:${env('POST_APACHE_PORT')}`;
const SCOPE = ['openid', 'email', 'profile'];
const SESSION_COOKIE = 'mod_auth_openidc_session';

let step = 0;
const ok = (what) => console.log(`  ok ${++step} - ${what}`);

// ---- the user agent: a cookie jar (by host, as browsers keep them: ports share cookies) ----

const UA = 'Mozilla/5.0 (portcullis oidc-rp driver)';

class Browser {
  constructor(cookies = new Map()) {
    this.cookies = new Map(cookies);
  }
  remember(res) {
    for (const line of res.setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = value === ''
        || attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a))
        || attrs.some((a) => {
          const m = /^\s*expires\s*=\s*(.+)$/i.exec(a);
          return m && Date.parse(m[1]) < Date.now();
        });
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  /**
   * A request as the browser makes it, redirects not followed: a top-level navigation unless
   * told otherwise (Accept text/html, Sec-Fetch-Mode navigate: mod_auth_openidc answers
   * what looks like an XHR with 401 instead of a redirect); the web app's API calls say
   * accept: application/json and come from its own origin. node:http rather than fetch,
   * which would send Sec-Fetch-Mode cors whatever it is told. init.sendCookie, when given,
   * picks the cookies the browser sends (SameSite rules), by name.
   */
  fetch(url, init = {}) {
    const headers = { ...(init.headers ?? {}) };
    headers.accept ??= 'text/html,application/xhtml+xml,*/*;q=0.8';
    if (headers.accept.startsWith('text/html')) {
      headers['sec-fetch-mode'] = 'navigate';
      headers['sec-fetch-dest'] = 'document';
    } else {
      headers['sec-fetch-mode'] = 'cors';
      headers['sec-fetch-dest'] = 'empty';
      if (String(url).startsWith(ISSUER)) headers['sec-fetch-site'] = 'same-origin';
    }
    headers['user-agent'] = UA;
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const sent = [...this.cookies].filter(([k]) => init.sendCookie?.(k) ?? true);
    if (sent.length) headers.cookie = sent.map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise((resolve, reject) => {
      const req = http.request(new URL(url), { method: init.method ?? 'GET', headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          const response = {
            status: res.statusCode,
            headers: { get: (name) => { const v = res.headers[name.toLowerCase()]; return Array.isArray(v) ? v.join(', ') : v ?? null; } },
            setCookies: res.headers['set-cookie'] ?? [],
            text: async () => body,
            json: async () => JSON.parse(body),
          };
          this.remember(response);
          resolve(response);
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }
  /** The same jar without Apache's cookies (a browser that never visited that site). */
  withoutApache() {
    return new Browser([...this.cookies].filter(([k]) => !k.startsWith('mod_auth_openidc')));
  }
}

const describe = async (res) => `${res.status} ${res.headers.get('location') ?? ''} ${(await res.text()).slice(0, 600)}`;

async function expectStatus(res, status, what) {
  if (res.status !== status) assert.fail(`${what}: ${await describe(res)}`);
}

// Apache's error log: what was written since a mark.
const logMark = () => statSync(ERROR_LOG).size;
const logSince = (mark) => readFileSync(ERROR_LOG).subarray(mark).toString();
// Apache's access log ("%h \"%r\" %>s" a line) likewise.
const accessMark = () => statSync(ACCESS_LOG).size;
const accessSince = (mark) => readFileSync(ACCESS_LOG).subarray(mark).toString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** How long the driver waits for Portcullis to deliver a logout token. */
const DELIVERY_WAIT_MS = 10_000;

// ---- Portcullis, as the web app's pages use it ------------------------------------------

async function signIn(browser) {
  const res = await browser.fetch(new URL('/api/auth/signin', ISSUER), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
  });
  await expectStatus(res, 200, 'signin');
  assert.ok(browser.cookies.has('portcullis_access') && browser.cookies.has('portcullis_refresh'), 'signin cookies');
}

/** The authorization URL in the browser; consent given if asked. The callback URL and whether consent was asked. */
async function authorize(browser, authorizationUrl, redirectUri, clientId = CLIENT_ID) {
  return answerAuthorize(browser, await browser.fetch(authorizationUrl), redirectUri, clientId);
}

/** The authorization endpoint's answer (to a GET or a form POST) in the browser, followed
 * as the consent page does: consent given if asked. The callback URL and whether consent
 * was asked. */
async function answerAuthorize(browser, res, redirectUri, clientId = CLIENT_ID) {
  await expectStatus(res, 302, 'authorize');
  const location = new URL(res.headers.get('location'), ISSUER);
  if (location.href.startsWith(redirectUri)) return { callback: location, consented: false };
  assert.equal(location.origin + location.pathname, new URL('/oauth/consent', ISSUER).href,
    `authorize sends to the redirect URI or the consent page, not ${location.href}`);
  const request = location.searchParams.get('request');
  assert.ok(request, 'the consent page URL carries request=');
  const api = new URL(`/api/oauth/requests/${encodeURIComponent(request)}`, ISSUER);
  const info = await browser.fetch(api, { headers: { accept: 'application/json' } });
  await expectStatus(info, 200, 'GET the request');
  const details = await info.json();
  assert.equal(details.client.clientId, clientId);
  assert.deepEqual([...details.scopes].sort(), [...SCOPE].sort());
  const answer = await browser.fetch(api, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ approve: true }),
  });
  await expectStatus(answer, 200, 'approve');
  const { redirectTo } = await answer.json();
  assert.ok(redirectTo?.startsWith(redirectUri), `redirectTo ${redirectTo}`);
  return { callback: new URL(redirectTo), consented: true };
}

// ---- mod_auth_openidc ------------------------------------------------------------------

/** GET /protected/ without a session: Apache's authorization request, checked. */
async function startLogin(browser, apache, meta) {
  const res = await browser.fetch(`${apache}/protected/`);
  await expectStatus(res, 302, `GET ${apache}/protected/ without a session`);
  const url = new URL(res.headers.get('location'));
  assert.equal(url.origin + url.pathname, meta.authorization_endpoint, 'to the authorization endpoint');
  const q = url.searchParams;
  assert.equal(q.get('client_id'), CLIENT_ID);
  assert.equal(q.get('redirect_uri'), `${apache}/protected/redirect_uri`);
  assert.equal(q.get('response_type'), 'code');
  assert.deepEqual(q.get('scope').split(' ').sort(), [...SCOPE].sort());
  assert.ok(q.get('state') && q.get('nonce'), 'state and nonce');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok([...browser.cookies.keys()].some((k) => k.startsWith('mod_auth_openidc_state')), 'a state cookie');
  return { url, state: q.get('state'), nonce: q.get('nonce') };
}

/** The application's page: NAME=value lines. */
async function protectedPage(browser, apache) {
  const res = await browser.fetch(`${apache}/protected/`);
  await expectStatus(res, 200, 'GET /protected/ with the session');
  const vars = {};
  for (const line of (await res.text()).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return vars;
}

const HTML_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeHtml = (s) => s.replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (m, dec, hex, name) => {
  if (dec) return String.fromCodePoint(Number(dec));
  if (hex) return String.fromCodePoint(parseInt(hex, 16));
  return HTML_ENTITIES[name.toLowerCase()] ?? m;
});
/** A tag's attributes (lower-cased names, unescaped values). */
const attributes = (tag) => Object.fromEntries([...tag.matchAll(/([a-z][a-z0-9_-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)]
  .map(([, name, dq, sq]) => [name.toLowerCase(), unescapeHtml(dq ?? sq)]));

/**
 * GET /protected/ without a session at the host with OIDCProviderAuthRequestMethod POST:
 * a 200 HTML page with one form, method post, action the authorization endpoint, hidden
 * inputs holding the authorization request (checked as startLogin checks the GET's), and
 * a script that submits it. The form's action and fields.
 */
async function startPostLogin(browser, apache, meta, clientId) {
  const res = await browser.fetch(`${apache}/protected/`);
  await expectStatus(res, 200, `GET ${apache}/protected/ without a session (auth request by POST)`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/i, 'an HTML page');
  const html = await res.text();
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  assert.equal(forms.length, 1, `one form on the page: ${html.slice(0, 1500)}`);
  const form = attributes(forms[0][1]);
  assert.equal((form.method ?? '').toLowerCase(), 'post', 'the form\'s method');
  assert.equal(form.action, meta.authorization_endpoint, 'the form\'s action is the authorization endpoint');
  assert.match(html, /document\.forms\[0\]\.submit\(\)/, 'the page submits the form by script');
  assert.doesNotMatch(html, /AUTH_TYPE=|REMOTE_USER=|OIDC_CLAIM_/, 'the page holds none of the protected content');
  const fields = new URLSearchParams();
  for (const [input] of forms[0][2].matchAll(/<input\b[^>]*>/gi)) {
    const a = attributes(input);
    assert.equal(a.type, 'hidden', `a hidden input: ${input}`);
    assert.ok(a.name, `a named input: ${input}`);
    fields.append(a.name, a.value ?? '');
  }
  assert.equal(fields.get('client_id'), clientId);
  assert.equal(fields.get('redirect_uri'), `${apache}/protected/redirect_uri`);
  assert.equal(fields.get('response_type'), 'code');
  assert.deepEqual(fields.get('scope').split(' ').sort(), [...SCOPE].sort());
  assert.ok(fields.get('state') && fields.get('nonce'), 'state and nonce');
  assert.equal(fields.get('code_challenge_method'), 'S256');
  assert.match(fields.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok([...browser.cookies.keys()].some((k) => k.startsWith('mod_auth_openidc_state')), 'a state cookie');
  return { action: form.action, fields, state: fields.get('state'), nonce: fields.get('nonce') };
}

/**
 * The form posted as a browser's script submits it: a top-level navigation from Apache's
 * page, with its Origin. `site` is where Apache is as the browser sees it: 'same-site' (as
 * here: 127.0.0.1 on another port; the browser sends Portcullis's SameSite=Strict cookies)
 * or 'cross-site' (an application on another site: those cookies stay behind).
 */
const submitForm = (browser, apache, { action, fields }, site) => browser.fetch(action, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    origin: apache,
    'sec-fetch-site': site,
  },
  body: fields.toString(),
  sendCookie: site === 'cross-site' ? (name) => !name.startsWith('portcullis_') : undefined,
});

async function expectToProvider(browser, apache, meta, what) {
  const res = await browser.fetch(`${apache}/protected/`);
  if (res.status !== 302) assert.fail(`${what}: ${await describe(res)}`);
  const to = new URL(res.headers.get('location'));
  assert.equal(to.origin + to.pathname, meta.authorization_endpoint, `${what}: to the authorization endpoint`);
}

/** mod_auth_openidc's answer to a refused authorization response: its error page (a 200
 * or an error status), no redirect into the site. The page's error text. */
async function expectErrorPage(res, what) {
  const body = await res.text();
  const m = /<pre>([^<]*)<\/pre>/.exec(body);
  if (res.status === 302 || !m || !/error/i.test(body)) assert.fail(`${what}: not Apache's error page: ${res.status} ${res.headers.get('location') ?? ''} ${body.slice(0, 600)}`);
  return m[1].trim();
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

/** A JWT signed with a key made here (of the kind `alg` needs), not the provider's. */
function forgeJwt(header, payload) {
  const input = Buffer.from(`${b64(header)}.${b64(payload)}`);
  let signature;
  if (header.alg === 'RS256') {
    signature = sign('sha256', input, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  } else if (header.alg === 'ES256') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signature = sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  } else if (header.alg === 'EdDSA') {
    signature = sign(null, input, generateKeyPairSync('ed25519').privateKey);
  } else {
    throw new Error(`no forging for ${header.alg}`);
  }
  return `${input}.${signature.toString('base64url')}`;
}

// ---- the tampering proxy (provider metadata and token endpoint of the second host) -------

const proxy = { tokenResponses: 0, damaged: 0 };

function damage(jws) {
  const [h, p, s] = jws.split('.');
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
}

function startProxy(meta) {
  const server = http.createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...meta, token_endpoint: `${PROXY}/token` }));
        return;
      }
      if (req.method === 'POST' && req.url === '/token') {
        const headers = { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' };
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        const upstream = await fetch(meta.token_endpoint, { method: 'POST', headers, body: Buffer.concat(chunks) });
        const body = await upstream.json();
        proxy.tokenResponses++;
        if (upstream.status === 200 && body.id_token) {
          body.id_token = damage(body.id_token);
          proxy.damaged++;
        }
        res.writeHead(upstream.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PROXY_PORT, '127.0.0.1', () => resolve(server));
  });
}

// ---- the scenario ----------------------------------------------------------------------

async function main() {
  console.log(`mod_auth_openidc relying party against ${ISSUER} (${EXPECTED_ALG})`);
  const meta = await (await fetch(new URL('/.well-known/openid-configuration', ISSUER))).json();
  assert.equal(meta.issuer, ISSUER);
  assert.ok(meta.id_token_signing_alg_values_supported.includes(EXPECTED_ALG),
    `id_token_signing_alg_values_supported ${meta.id_token_signing_alg_values_supported}`);
  const server = await startProxy(meta);
  try {
    await scenario(meta);
  } finally {
    server.close();
  }
  console.log(`mod_auth_openidc: all ${step} checks passed`);
}

async function scenario(meta) {
  const redirectUri = `${APACHE}/protected/redirect_uri`;

  // 1. Apache sends the browser to Portcullis; the user signs in and consents there.
  const browser = new Browser();
  const { state, nonce, url } = await startLogin(browser, APACHE, meta);
  ok('GET /protected/ without a session: 302 to the authorization endpoint (code, scope, state, nonce, S256 challenge), a state cookie');

  await signIn(browser);
  const { callback, consented } = await authorize(browser, url, redirectUri);
  assert.equal(consented, true, 'the first request asks for consent');
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), ISSUER);
  assert.ok(callback.searchParams.get('code'), 'a code');
  ok('signin at Portcullis, consent page, approval: back to Apache\'s redirect_uri with code, state and iss');

  // 2. Apache exchanges the code (client_secret_basic, code_verifier), verifies the ID token
  //    against the JWKS (signature, iss, aud, nonce, exp), calls userinfo, starts a session.
  const back = await browser.fetch(callback);
  if (back.status !== 302) assert.fail(`Apache's redirect_uri: ${await describe(back)}`);
  assert.equal(new URL(back.headers.get('location'), APACHE).href, `${APACHE}/protected/`, 'back to the page first asked for');
  assert.ok(browser.cookies.has(SESSION_COOKIE), 'a session cookie');
  assert.ok(![...browser.cookies.keys()].some((k) => k.startsWith('mod_auth_openidc_state')), 'the state cookie is spent');
  ok('Apache\'s redirect_uri: code exchanged, ID token accepted, a session cookie, 302 back to /protected/');

  // 3. What the application behind Apache sees.
  const vars = await protectedPage(browser, APACHE);
  const sub = vars.REMOTE_USER;
  assert.equal(vars.AUTH_TYPE, 'openid-connect');
  assert.match(sub ?? '', /^\d+$/, `REMOTE_USER is the account id: ${JSON.stringify(vars)}`);
  assert.equal(vars.OIDC_CLAIM_sub, sub);
  assert.equal(vars.OIDC_CLAIM_iss, ISSUER);
  assert.equal(vars.OIDC_CLAIM_aud, CLIENT_ID);
  assert.equal(vars.OIDC_CLAIM_nonce, nonce);
  assert.equal(vars.OIDC_CLAIM_preferred_username, USERNAME);
  assert.equal(vars.OIDC_CLAIM_email, EMAIL);
  const idToken = vars.OIDC_id_token;
  assert.ok(idToken && idToken.split('.').length === 3, 'the serialized ID token is passed on');
  const idHeader = b64json(idToken.split('.')[0]);
  assert.equal(idHeader.alg, EXPECTED_ALG, 'the ID token alg');
  assert.ok(idHeader.kid, 'the ID token has a kid');
  assert.equal(b64json(idToken.split('.')[1]).sub, sub);
  assert.ok(vars.OIDC_access_token, 'the access token is passed on');
  ok(`GET /protected/: 200; the application sees REMOTE_USER ${sub}, iss, aud, nonce, alice, email, the ID token (${idHeader.alg}, kid)`);

  // 4. mod_auth_openidc's info hook: the session's ID token claims and the userinfo it fetched.
  const hook = await browser.fetch(`${redirectUri}?info=json`, { headers: { accept: 'application/json' } });
  await expectStatus(hook, 200, 'the info hook');
  const info = await hook.json();
  assert.equal(info.remote_user, sub);
  assert.equal(info.id_token.sub, sub);
  assert.equal(info.id_token.iss, ISSUER);
  assert.equal(info.id_token.nonce, nonce);
  assert.equal(info.userinfo?.sub, sub, `userinfo in the session: ${JSON.stringify(info.userinfo)}`);
  assert.equal(info.userinfo.preferred_username, USERNAME);
  assert.equal(info.userinfo.email, EMAIL);
  assert.equal(info.access_token, vars.OIDC_access_token);
  const ui = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${info.access_token}` } });
  await expectStatus(ui, 200, 'Portcullis userinfo with Apache\'s access token');
  assert.equal((await ui.json()).sub, sub);
  ok('info hook: the ID token\'s claims and the userinfo Apache fetched (same sub, alice, email); its access token works at userinfo');

  // 5. The session cookie is what lets the browser in.
  await expectToProvider(browser.withoutApache(), APACHE, meta, 'no session cookie');
  const forged = new Browser(browser.cookies);
  const real = browser.cookies.get(SESSION_COOKIE);
  const i = Math.floor(real.length / 2);
  forged.cookies.set(SESSION_COOKIE, real.slice(0, i) + (real[i] === 'a' ? 'b' : 'a') + real.slice(i + 1));
  await expectToProvider(forged, APACHE, meta, 'a tampered session cookie');
  forged.cookies.set(SESSION_COOKIE, 'not-a-session');
  await expectToProvider(forged, APACHE, meta, 'a made-up session cookie');
  assert.equal((await protectedPage(browser, APACHE)).REMOTE_USER, sub, 'the real cookie still works');
  ok('no session cookie, a tampered one, a made-up one: 302 to the authorization endpoint; the real one: 200');

  // 6. Another Apache session for the same browser: Portcullis answers at once.
  const second = browser.withoutApache();
  const again = await startLogin(second, APACHE, meta);
  const quick = await authorize(second, again.url, redirectUri);
  assert.equal(quick.consented, false, 'signed in and consent remembered: the code at once');
  const back2 = await second.fetch(quick.callback);
  await expectStatus(back2, 302, 'the second callback');
  assert.equal((await protectedPage(second, APACHE)).REMOTE_USER, sub);
  assert.notEqual(second.cookies.get(SESSION_COOKIE), browser.cookies.get(SESSION_COOKIE), 'a new session');
  ok('a second Apache session: Portcullis sends the code at once (signed in, consent remembered); the same sub');

  // 7. A forged code at the redirect_uri: Portcullis refuses it, so Apache does.
  const third = browser.withoutApache();
  const forgedFlow = await startLogin(third, APACHE, meta);
  const forgedCb = (await authorize(third, forgedFlow.url, redirectUri)).callback;
  forgedCb.searchParams.set('code', `${forgedCb.searchParams.get('code')}x`);
  let mark = logMark();
  const refused = await third.fetch(forgedCb);
  const refusedPage = await expectErrorPage(refused, 'a forged code');
  assert.match(logSince(mark), /invalid_grant/, 'Apache\'s log shows Portcullis\'s invalid_grant');
  assert.ok(!third.cookies.has(SESSION_COOKIE), 'no session');
  await expectToProvider(third, APACHE, meta, 'after a forged code');
  ok(`a forged code at the redirect_uri: Portcullis answers invalid_grant; Apache's error page ("${refusedPage}"), no session`);

  // 8. An ID token whose signature was damaged on the way (the second virtual host gets its
  //    token responses through the proxy): mod_auth_openidc must refuse it.
  const tamperRedirect = `${TAMPER_APACHE}/protected/redirect_uri`;
  const fourth = browser.withoutApache();
  const tFlow = await startLogin(fourth, TAMPER_APACHE, meta);
  const tCb = (await authorize(fourth, tFlow.url, tamperRedirect)).callback;
  mark = logMark();
  const damagedBefore = proxy.damaged;
  const bad = await fourth.fetch(tCb);
  assert.equal(proxy.damaged, damagedBefore + 1, 'the token response went through the proxy, its ID token damaged');
  await expectErrorPage(bad, 'a damaged ID token signature');
  const why = logSince(mark);
  assert.match(why, /id_token signature could not be validated/, `Apache's log names the failed verification: ${why.slice(-3000)}`);
  const cause = /JWT signature verification failed: .*?(cjose_jws_verify failed: [^[]*)/.exec(why)?.[1]?.trim() ?? '?';
  assert.ok(!fourth.cookies.has(SESSION_COOKIE), 'no session');
  await expectToProvider(fourth, TAMPER_APACHE, meta, 'after a damaged ID token');
  ok(`an ID token with a damaged signature (token response through a proxy): Apache's error page; its log: "id_token signature could not be validated" (${cause}); no session`);

  // 9. Logout at Apache: it ends its session and sends the browser to Portcullis's
  //    end_session_endpoint, which ends the Portcullis session and returns.
  const loggedOut = `${APACHE}/loggedout`;
  const apacheSession = browser.cookies.get(SESSION_COOKIE);
  const out = await browser.fetch(`${redirectUri}?logout=${encodeURIComponent(loggedOut)}`);
  await expectStatus(out, 302, 'logout at Apache');
  const endSession = new URL(out.headers.get('location'));
  assert.equal(endSession.origin + endSession.pathname, meta.end_session_endpoint, 'to the end_session_endpoint');
  assert.equal(endSession.searchParams.get('id_token_hint'), idToken, 'id_token_hint is the session\'s ID token');
  assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), loggedOut);
  const me = async () => (await fetch(new URL('/api/auth/me', ISSUER), {
    headers: { cookie: ['portcullis_access', 'portcullis_refresh'].map((n) => `${n}=${browser.cookies.get(n)}`).join('; ') },
  })).status;
  const cookiesBefore = new Map(browser.cookies);
  assert.equal(await me(), 200, 'signed in at Portcullis before');
  const endSessionAccessMark = accessMark();
  const bye = await browser.fetch(endSession);
  await expectStatus(bye, 302, 'end session');
  const byeUrl = new URL(bye.headers.get('location'));
  assert.equal(byeUrl.origin + byeUrl.pathname, loggedOut);
  browser.cookies = cookiesBefore; // ask with the cookies it had, not the cleared ones
  assert.equal(await me(), 401, '/api/auth/me after logout');
  await expectToProvider(new Browser([[SESSION_COOKIE, apacheSession]]), APACHE, meta, 'the ended Apache session\'s cookie');
  ok('logout at Apache: 302 to end_session_endpoint with id_token_hint and post_logout_redirect_uri; Portcullis ends its session (/api/auth/me 401), back to /loggedout; the Apache session is gone');

  // 10. The third virtual host sends the authorization request by POST
  //     (OIDCProviderAuthRequestMethod POST, a client of its own): Apache's page with a form
  //     that its script submits. Posted as from an application on another site (Portcullis's
  //     SameSite=Strict cookies not sent), it goes to the consent page, where the web app's
  //     own requests carry them; approval, the code, Apache's session.
  const postRedirect = `${POST_APACHE}/protected/redirect_uri`;
  const poster = new Browser();
  const pFlow = await startPostLogin(poster, POST_APACHE, meta, POST_CLIENT_ID);
  await signIn(poster);
  const posted = await submitForm(poster, POST_APACHE, pFlow, 'cross-site');
  const pAnswer = await answerAuthorize(poster, posted, postRedirect, POST_CLIENT_ID);
  assert.equal(pAnswer.consented, true, 'the POST client\'s first request goes to the consent page');
  assert.equal(pAnswer.callback.searchParams.get('state'), pFlow.state);
  assert.equal(pAnswer.callback.searchParams.get('iss'), ISSUER);
  assert.ok(pAnswer.callback.searchParams.get('code'), 'a code');
  const pBack = await poster.fetch(pAnswer.callback);
  if (pBack.status !== 302) assert.fail(`the POST host's redirect_uri: ${await describe(pBack)}`);
  assert.equal(new URL(pBack.headers.get('location'), POST_APACHE).href, `${POST_APACHE}/protected/`, 'back to the page first asked for');
  assert.ok(poster.cookies.has(SESSION_COOKIE), 'a session cookie');
  const pVars = await protectedPage(poster, POST_APACHE);
  assert.equal(pVars.AUTH_TYPE, 'openid-connect');
  assert.equal(pVars.REMOTE_USER, sub);
  assert.equal(pVars.OIDC_CLAIM_sub, sub);
  assert.equal(pVars.OIDC_CLAIM_iss, ISSUER);
  assert.equal(pVars.OIDC_CLAIM_aud, POST_CLIENT_ID);
  assert.equal(pVars.OIDC_CLAIM_nonce, pFlow.nonce);
  assert.equal(pVars.OIDC_CLAIM_preferred_username, USERNAME);
  assert.equal(pVars.OIDC_CLAIM_email, EMAIL);
  assert.equal(b64json(pVars.OIDC_id_token.split('.')[0]).alg, EXPECTED_ALG, 'the ID token alg');
  ok(`OIDCProviderAuthRequestMethod POST: a 200 page whose script submits a form (method post, action the authorization endpoint, ${[...pFlow.fields.keys()].length} hidden fields); posted from another site: 302 to the consent page, approval, code; /protected/ 200 with REMOTE_USER ${sub}, aud the POST client, the form's nonce`);

  // 11. The same from this site (127.0.0.1 on another port, as in this harness: the browser
  //     sends Portcullis's cookies, Origin Apache's, Sec-Fetch-Site same-site): signed in
  //     and consent remembered, the posted request gets its code at once.
  const poster2 = poster.withoutApache();
  const p2Flow = await startPostLogin(poster2, POST_APACHE, meta, POST_CLIENT_ID);
  const p2Posted = await submitForm(poster2, POST_APACHE, p2Flow, 'same-site');
  if (p2Posted.status === 403) {
    assert.fail('the authorization request posted from the same site with Portcullis\'s cookies (as a browser sends it: '
      + `Origin ${POST_APACHE}, Sec-Fetch-Site same-site) was refused, where the GET with the same cookies is served: ${await describe(p2Posted)}`);
  }
  const p2Answer = await answerAuthorize(poster2, p2Posted, postRedirect, POST_CLIENT_ID);
  assert.equal(p2Answer.consented, false, 'signed in and consent remembered: the code at once');
  assert.equal(p2Answer.callback.searchParams.get('state'), p2Flow.state);
  await expectStatus(await poster2.fetch(p2Answer.callback), 302, 'the second POST-host callback');
  const p2Vars = await protectedPage(poster2, POST_APACHE);
  assert.equal(p2Vars.REMOTE_USER, sub);
  assert.equal(p2Vars.OIDC_CLAIM_nonce, p2Flow.nonce);
  ok('OIDCProviderAuthRequestMethod POST from the same site (Portcullis\'s cookies, Origin Apache\'s): 302 straight to the redirect_uri with the code (signed in, consent remembered); /protected/ 200, the same sub');

  await backchannelLogout(meta, sub, endSessionAccessMark);
}

/** Waits for Apache's access log (since `mark`) to show `n` back-channel logout POSTs; those lines. */
async function backchannelPosts(mark, n) {
  const started = Date.now();
  for (;;) {
    const lines = accessSince(mark).split('\n').filter((l) => l.includes('"POST /protected/redirect_uri?logout=backchannel '));
    if (lines.length >= n || Date.now() - started > DELIVERY_WAIT_MS) return lines;
    await sleep(100);
  }
}

/**
 * Back-channel logout: the client is registered with Apache's redirect URI and
 * `logout=backchannel`, where mod_auth_openidc takes logout tokens (validating them, then
 * ending the session its server-side cache holds for the token's sid).
 */
async function backchannelLogout(meta, sub, endSessionAccessMark) {
  const redirectUri = `${APACHE}/protected/redirect_uri`;
  const backchannelUri = `${redirectUri}?logout=backchannel`;

  // 12. The RP-initiated logout of step 9 ended a Portcullis session on which Apache had
  //     been given tokens: Portcullis sent Apache a logout token for it, and Apache took it
  //     (200), although its own logout had already ended its session.
  const earlier = await backchannelPosts(endSessionAccessMark, 1);
  assert.equal(earlier.length, 1, `one back-channel POST after the RP-initiated logout: ${JSON.stringify(earlier)}`);
  assert.match(earlier[0], /" 200$/, `Apache's answer: ${earlier[0]}`);
  ok(`the RP-initiated logout (step 9) also sent Apache a logout token at its redirect_uri?logout=backchannel: "${earlier[0]}"`);

  // 13. Two browsers, each signed in at Portcullis (a session, a sid, of its own) and at
  //     Apache (consent remembered: the code at once).
  const signedIn = async (name) => {
    const b = new Browser();
    const flow = await startLogin(b, APACHE, meta);
    await signIn(b);
    const { callback, consented } = await authorize(b, flow.url, redirectUri);
    assert.equal(consented, false, `${name}: consent remembered`);
    await expectStatus(await b.fetch(callback), 302, `${name}: Apache's redirect_uri`);
    const vars = await protectedPage(b, APACHE);
    assert.equal(vars.REMOTE_USER, sub);
    assert.equal(vars.OIDC_CLAIM_nonce, flow.nonce);
    assert.ok(vars.OIDC_CLAIM_sid, `${name}: the ID token has a sid: ${JSON.stringify(vars)}`);
    return { browser: b, sid: vars.OIDC_CLAIM_sid, kid: b64json(vars.OIDC_id_token.split('.')[0]).kid };
  };
  const u = await signedIn('browser U');
  const w = await signedIn('browser W');
  assert.notEqual(u.sid, w.sid, 'two Portcullis sessions, two sids');
  ok(`two browsers signed in at Portcullis and at Apache: /protected/ 200 for each, sids ${u.sid} and ${w.sid}`);

  // 14. Logout tokens that are not Portcullis's, for U's sid, posted at Apache's back-channel
  //     endpoint: refused with 400, both sessions live on.
  const claimsFor = (sid) => {
    const iat = Math.floor(Date.now() / 1000);
    return { iss: ISSUER, aud: CLIENT_ID, iat, exp: iat + 120, jti: randomUUID(), sub, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } };
  };
  const refused = async (token, what, logged) => {
    const mark = logMark();
    const res = await fetch(backchannelUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
    });
    const body = await res.text();
    assert.equal(res.status, 400, `${what}: ${res.status} ${body.slice(0, 300)}`);
    const why = logSince(mark);
    assert.match(why, logged, `${what}: Apache's log: ${why.slice(-3000)}`);
    assert.equal((await protectedPage(u.browser, APACHE)).OIDC_CLAIM_sid, u.sid, `U after ${what}`);
    assert.equal((await protectedPage(w.browser, APACHE)).OIDC_CLAIM_sid, w.sid, `W after ${what}`);
    return logged.exec(why)[0];
  };
  const unsigned = `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(claimsFor(u.sid))}.`;
  const why1 = await refused(unsigned, 'an unsigned (alg none) logout token', /logout token is not signed|oidc_jwt_parse failed[^\n]*/);
  const forged = forgeJwt({ alg: EXPECTED_ALG, typ: 'logout+jwt', kid: u.kid }, claimsFor(u.sid));
  const why2 = await refused(forged, 'a logout token signed with another key under the provider\'s kid', /id_token signature could not be validated/);
  ok(`forged logout tokens for U's sid at Apache's back-channel endpoint: 400 ("${why1}"; "${why2}"); U and W still 200`);

  // 15. U signs out at Portcullis (the web app's POST /api/auth/signout with U's cookies,
  //     not Apache's logout): Portcullis posts a logout token to Apache, which ends U's
  //     Apache session; W's lives on.
  const mark = accessMark();
  const errorMark = logMark();
  const out = await u.browser.fetch(new URL('/api/auth/signout', ISSUER), {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: '',
  });
  await expectStatus(out, 200, 'signout at Portcullis');
  const started = Date.now();
  let took;
  for (;;) {
    const res = await u.browser.fetch(`${APACHE}/protected/`);
    if (res.status === 302) {
      const to = new URL(res.headers.get('location'));
      assert.equal(to.origin + to.pathname, meta.authorization_endpoint, 'U: to the authorization endpoint');
      took = Date.now() - started;
      break;
    }
    await expectStatus(res, 200, 'U\'s /protected/ while waiting for the back-channel logout');
    await res.text();
    if (Date.now() - started > DELIVERY_WAIT_MS) {
      assert.fail(`U's Apache session still lives ${DELIVERY_WAIT_MS} ms after signing out at Portcullis; Apache's access log since: ${accessSince(mark)}`);
    }
    await sleep(100);
  }
  const posts = await backchannelPosts(mark, 1);
  assert.equal(posts.length, 1, `one back-channel POST: ${JSON.stringify(posts)}`);
  assert.match(posts[0], /^127\.0\.0\.1 "POST \/protected\/redirect_uri\?logout=backchannel HTTP\/1\.1" 200$/, 'Apache answered 200');
  // Apache's log (auth_openidc at debug): the token it read, and the sid whose session it
  // cleaned up; no error.
  const log = logSince(errorMark);
  assert.doesNotMatch(log, /:error\] /, `no error in Apache's log: ${log.slice(-3000)}`);
  const read = /oidc_handle_logout_backchannel: enter[\s\S]*?read: logout_token=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(log);
  assert.ok(read, `Apache's log shows the logout token it read: ${log.slice(-3000)}`);
  const [h, p] = read[1].split('.').slice(0, 2).map(b64json);
  assert.equal(h.typ, 'logout+jwt');
  assert.equal(h.alg, EXPECTED_ALG, 'the logout token is signed in the client\'s ID token algorithm');
  assert.equal(h.kid, u.kid, 'by the key that signed the ID token');
  assert.equal(p.iss, ISSUER);
  assert.equal(p.aud, CLIENT_ID);
  assert.equal(p.sub, sub);
  assert.equal(p.sid, u.sid);
  assert.deepEqual(p.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  assert.equal(p.exp - p.iat, 120);
  assert.ok(p.jti && !('nonce' in p), 'a jti, no nonce');
  assert.ok(log.includes(`oidc_cleanup_by_sid: enter (sid=${u.sid},iss=${ISSUER})`), `Apache cleaned up U's sid: ${log.slice(-3000)}`);
  assert.ok(!log.includes(`sid=${w.sid}`), 'and not W\'s');
  assert.equal((await protectedPage(w.browser, APACHE)).OIDC_CLAIM_sid, w.sid, 'W is untouched');
  ok(`POST /api/auth/signout at Portcullis with U's cookies: Portcullis posted a logout token to Apache ("${posts[0]}"; ${h.alg}, typ logout+jwt, U's sid; Apache's log: oidc_cleanup_by_sid for U's sid); U's /protected/ goes to the authorization endpoint after ${took} ms; W's still 200`);
}

main().catch((e) => {
  console.error(`  FAILED after step ${step}:`, e);
  if (e?.cause) console.error('  cause:', e.cause);
  process.exit(1);
});
