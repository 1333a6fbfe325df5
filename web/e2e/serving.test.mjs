// How the binary serves the built app: every text file compressed as the browser accepts it
// (brotli, else gzip, from the copies web/scripts/precompress.mjs writes at build time), the
// same bytes once decompressed, `Vary: Accept-Encoding` either way. Raw HTTP (node:http),
// since fetch would hide the encoding by decoding it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { repoRoot, startServer } from './harness.mjs';

const dist = join(repoRoot, 'web', 'dist', 'browser');

function fetchRaw(url, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('the app served compressed', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('index.html and the main script come as brotli, else gzip, else as they are', async () => {
    const index = readFileSync(join(dist, 'index.html'));
    const main = index.toString().match(/src="(main-[^"]+\.js)"/)[1];
    for (const [path, file] of [
      ['/', 'index.html'],
      ['/account/security', 'index.html'],
      [`/${main}`, main],
    ]) {
      const plain = readFileSync(join(dist, file));
      const br = await fetchRaw(`${server.url}${path}`, 'gzip, deflate, br, zstd');
      assert.equal(br.status, 200, path);
      assert.equal(br.headers['content-encoding'], 'br', path);
      assert.equal(br.headers.vary, 'Accept-Encoding', path);
      assert.ok(br.body.length < plain.length, `${path}: ${br.body.length} < ${plain.length}`);
      assert.deepEqual(brotliDecompressSync(br.body), plain, path);

      const gz = await fetchRaw(`${server.url}${path}`, 'gzip');
      assert.equal(gz.headers['content-encoding'], 'gzip', path);
      assert.deepEqual(gunzipSync(gz.body), plain, path);

      for (const refused of [undefined, 'identity', 'br;q=0, gzip;q=0']) {
        const as_is = await fetchRaw(`${server.url}${path}`, refused);
        assert.equal(as_is.headers['content-encoding'], undefined, `${path} ${refused}`);
        assert.equal(as_is.headers.vary, 'Accept-Encoding', path);
        assert.deepEqual(as_is.body, plain, `${path} ${refused}`);
      }
    }
  });
});
