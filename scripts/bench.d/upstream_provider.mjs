// An upstream OpenID Connect provider standing in for figure 18 of scripts/bench (a sign-in
// with another identity provider): discovery, the key set, an authorization endpoint that
// signs in whoever `sub` names at once (no login page), and the token endpoint. Node's own
// http and crypto, no dependencies.
//
//   node upstream_provider.mjs PORT CLIENT_ID CLIENT_SECRET
//
// The ID token (RS256, the sign-in's nonce, the person's verified email) is signed when the
// authorization endpoint hands out the code, so the token endpoint's part in a timed
// callback is a lookup and a SHA-256 (the PKCE check): what is measured is Portcullis'
// work, not this process's RSA signatures. GET /asked answers how many requests each
// endpoint has had (and how many connections were opened), so that the run can say how
// often Portcullis fetched the metadata and the keys.
import crypto from 'node:crypto';
import http from 'node:http';

const [port, clientId, clientSecret] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const issuer = `http://127.0.0.1:${port}`;
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = 'bench-1';
const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const header = b64({ alg: 'RS256', typ: 'JWT', kid });
const signed = (claims) => {
  const input = `${header}.${b64(claims)}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
};
const discovery = JSON.stringify({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks`,
  response_types_supported: ['code'],
  subject_types_supported: ['public'],
  id_token_signing_alg_values_supported: ['RS256'],
  token_endpoint_auth_methods_supported: ['client_secret_basic'],
  authorization_response_iss_parameter_supported: true,
});
const keySet = JSON.stringify({ keys: [jwk] });
const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

/** code -> what its exchange must bring, and the answer it gets. */
const codes = new Map();
const asked = { discovery: 0, jwks: 0, authorize: 0, token: 0, connections: 0 };

const answer = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

function authorize(res, q) {
  asked.authorize += 1;
  const sub = q.get('sub');
  if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256' || !sub || !q.get('nonce')) {
    return answer(res, 400, { error: 'invalid_request' });
  }
  const code = crypto.randomBytes(24).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const idToken = signed({
    iss: issuer, sub, aud: clientId, iat: now, exp: now + 1800, nonce: q.get('nonce'),
    email: `${sub}@bench.example`, email_verified: true, preferred_username: sub,
  });
  codes.set(code, { challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri'), idToken });
  const back = new URL(q.get('redirect_uri'));
  back.searchParams.set('code', code);
  back.searchParams.set('state', q.get('state'));
  back.searchParams.set('iss', issuer);
  res.writeHead(302, { Location: back.toString() });
  res.end();
}

function token(req, res, body) {
  asked.token += 1;
  const form = new URLSearchParams(body);
  const grant = codes.get(form.get('code') ?? '');
  if (req.headers.authorization !== basic) return answer(res, 401, { error: 'invalid_client' });
  if (!grant) return answer(res, 400, { error: 'invalid_grant' });
  codes.delete(form.get('code'));
  const challenge = crypto.createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
  if (form.get('grant_type') !== 'authorization_code' || challenge !== grant.challenge ||
      form.get('redirect_uri') !== grant.redirectUri) {
    return answer(res, 400, { error: 'invalid_grant' });
  }
  answer(res, 200, {
    access_token: crypto.randomBytes(24).toString('base64url'),
    token_type: 'Bearer', expires_in: 3600, id_token: grant.idToken,
  }, { 'Cache-Control': 'no-store' });
}

const server = http.createServer({ keepAlive: true }, (req, res) => {
  const url = new URL(req.url, issuer);
  if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
    asked.discovery += 1;
    return answer(res, 200, discovery);
  }
  if (req.method === 'GET' && url.pathname === '/jwks') {
    asked.jwks += 1;
    return answer(res, 200, keySet);
  }
  if (req.method === 'GET' && url.pathname === '/authorize') return authorize(res, url.searchParams);
  if (req.method === 'GET' && url.pathname === '/asked') return answer(res, 200, asked);
  if (req.method === 'POST' && url.pathname === '/token') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => token(req, res, body));
    return undefined;
  }
  return answer(res, 404, { error: 'not_found' });
});
server.on('connection', () => { asked.connections += 1; });
server.listen(port, '127.0.0.1');
