// A sample relying party: "Sign in with Portcullis" on http://localhost:3000, with the
// authorization code flow and PKCE, by openid-client. Not a pattern for production: it keeps
// its one user's tokens in memory and runs on plain http on localhost.
//   ISSUER=http://localhost:8080 CLIENT_ID=… CLIENT_SECRET=… node server.mjs
import http from 'node:http';
import * as oidc from 'openid-client';

const issuer = new URL(process.env.ISSUER ?? 'http://localhost:8080');
const port = Number(process.env.PORT ?? 3000);
const redirectUri = `http://localhost:${port}/cb`;
const options = issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {};
const config = await oidc.discovery(issuer, process.env.CLIENT_ID, process.env.CLIENT_SECRET, undefined, options);

// One pending sign-in per browser would be kept in a cookie-keyed store; one will do here.
let pending = null;
let signedIn = null;

const page = (body) => `<!doctype html><meta charset="utf-8"><title>Sample app</title>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">${body}</body>`;
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, `http://localhost:${port}`);
    try {
      if (url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        pending = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce() };
        const to = oidc.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid profile email roles',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: pending.state,
          nonce: pending.nonce,
        });
        res.writeHead(302, { location: to.href }).end();
      } else if (url.pathname === '/cb' && pending) {
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
        });
        const claims = tokens.claims();
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        signedIn = { idToken: tokens.id_token, claims, info };
        pending = null;
        res.writeHead(302, { location: '/' }).end();
      } else if (url.pathname === '/logout' && signedIn) {
        const to = oidc.buildEndSessionUrl(config, {
          id_token_hint: signedIn.idToken,
          post_logout_redirect_uri: `http://localhost:${port}/`,
        });
        signedIn = null;
        res.writeHead(302, { location: to.href }).end();
      } else if (url.pathname === '/') {
        const body = signedIn
          ? `<h1>Hello, ${escape(signedIn.info.preferred_username)}</h1>
             <p>Portcullis signed you in. The ID token's claims, checked against its keys:</p>
             <pre>${escape(JSON.stringify(signedIn.claims, null, 2))}</pre>
             <p><a href="/logout">Sign out</a> (of this app and of Portcullis)</p>`
          : `<h1>Sample app</h1><p><a href="/login">Sign in with Portcullis</a></p>`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(body));
      } else {
        res.writeHead(404).end();
      }
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page(`<p>${escape(error.message)}</p><p><a href="/">Back</a></p>`));
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`sample app on http://localhost:${port}`));
