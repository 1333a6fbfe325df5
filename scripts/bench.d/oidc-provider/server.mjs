// node-oidc-provider (the version package.json pins) with its defaults, for scripts/bench's
// figure 12: the same client_credentials grant as Portcullis' figure 8, from the library
// most Node deployments use. What differs from the defaults is only what the grant needs:
// the clientCredentials feature (off by default) and one confidential client allowed it,
// authenticating with client_secret_basic (the default method). Everything else is the
// library's: the in-memory adapter, its development signing keys, resource indicators on
// with no resource server (so a grant without `resource` gets the default opaque access
// token, stored in the adapter), one process.
//   node server.mjs PORT CLIENT_ID CLIENT_SECRET
// Serves http://127.0.0.1:PORT (also the issuer); prints "listening" when it answers.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
if (!port || !clientId || !clientSecret) {
  console.error('usage: node server.mjs PORT CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
  },
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
