// DPoP proofs (RFC 9449 §4.2) for scripts/bench's figure 14, made with Node's own crypto (no
// packages): ES256, header typ dpop+jwt with the public key as jwk, claims jti (random),
// htm, htu, iat (now) and, with an access token, ath (its SHA-256, base64url). Each proof
// works once and for 60 s, so they are made just before the run that spends them.
//   node dpop_proofs.mjs KEY.pem METHOD URL COUNT OUT [ACCESS_TOKEN]
// KEY.pem: the client's P-256 key (PKCS#8), made there if missing, so that the token bound
// by the first proof is then proved by the others. OUT: the proofs, one a line.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';

const [keyFile, method, url, countText, out, accessToken] = process.argv.slice(2);
const count = Number(countText);
if (!keyFile || !method || !url || !Number.isInteger(count) || count < 1 || !out) {
  console.error('usage: node dpop_proofs.mjs KEY.pem METHOD URL COUNT OUT [ACCESS_TOKEN]');
  process.exit(2);
}
if (!existsSync(keyFile)) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
}
const key = createPrivateKey(readFileSync(keyFile));
const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
const b64 = (data) => Buffer.from(data).toString('base64url');
const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
const ath = accessToken ? createHash('sha256').update(accessToken).digest('base64url') : undefined;
const iat = Math.floor(Date.now() / 1000);

const fd = openSync(out, 'w');
let chunk = [];
for (let i = 0; i < count; i++) {
  const claims = { jti: b64(randomBytes(16)), htm: method, htu: url, iat, ...(ath ? { ath } : {}) };
  const input = `${header}.${b64(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  chunk.push(`${input}.${signature.toString('base64url')}\n`);
  if (chunk.length === 1000) {
    writeSync(fd, chunk.join(''));
    chunk = [];
  }
}
writeSync(fd, chunk.join(''));
closeSync(fd);
