// node-oidc-provider (npm `oidc-provider`, the version web/package.json pins) as an upstream
// OpenID Connect provider for the browser tests, in this process: its issuer is
// http://127.0.0.1:PORT on a port of its own, it has confidential clients (client_secret_basic)
// whose redirect URIs are the downstream Portcullis' callbacks, and a fixed set of people
// (UPSTREAM_PEOPLE). People sign in on the library's own development pages (devInteractions:
// a login form whose `login` is the account id and whose password is not checked, then a
// consent form), which is all a test needs of an upstream's login page. Besides the
// library's defaults: PKCE is required of every client (by default only of public ones), the
// cookie and signing keys are made per run, the lifetimes are set, and unknown accounts do
// not exist. The library warns that Node 20 is not a runtime it supports (it wants 22 LTS);
// it runs here as it does for scripts/bench.d/oidc-provider. The
// authorization response carries RFC 9207's `iss` (the library's default, advertised as
// `authorization_response_iss_parameter_supported`). The ID token holds only `sub` and the
// protocol's claims (the library's `conformIdTokenClaims`): email, email_verified and
// preferred_username come from userinfo, as they do at many real providers.
// Not a test file: `node --test` runs only files named *.test.mjs and the like.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

/**
 * The people the upstream knows, by the `login` typed on its login page (also their `sub`
 * there). Their emails are verified, as the upstream says.
 */
export const UPSTREAM_PEOPLE = {
  ada: { email: 'ada@lovelace.example', preferred_username: 'ada.lovelace', name: 'Ada Lovelace' },
  grace: { email: 'grace@example.com', preferred_username: 'grace', name: 'Grace Hopper' },
  carl: { email: 'carl@upstream.example', preferred_username: 'carl', name: 'Carl Gauss' },
  nemo: { email: 'nemo@upstream.example', preferred_username: 'nemo', name: 'Nemo Nobody' },
  vera: { email: 'vera@example.com', preferred_username: 'vera', name: 'Vera Rubin' },
};

/**
 * Starts the upstream on 127.0.0.1 on a free port. `clients`: `[{ clientId, clientSecret,
 * redirectUris }]`. Answers `{ issuer, provider, stop() }`; `provider` is the library's
 * instance (its events, for a test that wants them).
 */
export async function startNodeOidcUpstream({ clients }) {
  // Listening first on a port the system picks: the issuer names that port, with no race.
  const server = createServer();
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signing = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: clients.map(({ clientId, clientSecret, redirectUris }) => ({
      client_id: clientId,
      client_secret: clientSecret,
      // A web client (the default application_type): http redirect URIs are allowed for the
      // code flow (only the implicit flow insists on https and refuses localhost).
      application_type: 'web',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    async findAccount(_ctx, id) {
      const person = Object.hasOwn(UPSTREAM_PEOPLE, id) ? UPSTREAM_PEOPLE[id] : undefined;
      if (!person) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email_verified: true, ...person };
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name'],
    },
    scopes: ['openid', 'email', 'profile'],
    pkce: { required: () => true },
    // Lifetimes (seconds) said here rather than left to the defaults, which log a notice each.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [signing] },
  });
  // Not behind a proxy: the issuer is what the browser and the downstream reach directly.
  server.on('request', provider.callback());

  return {
    issuer,
    provider,
    async stop() {
      server.closeAllConnections();
      await new Promise((ok) => server.close(() => ok()));
    },
  };
}
