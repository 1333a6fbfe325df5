// Writes a brotli (.br) and a gzip (.gz) copy beside every text file of the build, at the
// highest levels, once: the server embeds them and answers with the one a browser accepts,
// so no request pays for compression (src/http/web_app.rs).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../dist/browser/', import.meta.url).pathname;
const compressible = /\.(js|css|html|json|svg|txt|ico|webmanifest)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (compressible.test(name)) yield path;
  }
}

let count = 0;
for (const path of files(root)) {
  const bytes = readFileSync(path);
  const br = brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
  const gz = gzipSync(bytes, { level: 9 });
  // A copy that saves nothing is left out; the server then sends the file as it is.
  if (br.length < bytes.length) writeFileSync(`${path}.br`, br);
  if (gz.length < bytes.length) writeFileSync(`${path}.gz`, gz);
  count++;
}
console.log(`precompressed ${count} files in ${root}`);
