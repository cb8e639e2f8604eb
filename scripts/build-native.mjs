#!/usr/bin/env node
// Builds native/ (the C twins of the elementwise loops, shared/kernel/elementwise.ts, and the mapping of
// shared-memory lanes, shared/protocol/shm.ts) with node-gyp: run by
// `npm install` / `npm ci` (the package's install script) and by `npm run build:native`. Optional: without a C
// compiler or Node's headers the build fails, this says so, and nabla runs the same loops in TypeScript (same bits,
// slower), so the install goes on (exit 0).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const nativeDir = join(root, 'native');
// npm tells its scripts where its node-gyp is; otherwise look for the one bundled with npm next to this node.
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((path) => path && existsSync(path));
const say = (line) => process.stderr.write(`nabla: ${line}\n`);

if (candidates.length === 0) {
  say('node-gyp not found: the C elementwise loops are not built; nabla uses the TypeScript ones (same results, slower)');
  process.exit(0);
}
const result = spawnSync(process.execPath, [candidates[0], 'rebuild', '--directory', nativeDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (result.status === 0) {
  say('built native/build/Release/nabla_native.node (the C elementwise loops and shared-memory mapping)');
} else {
  const tail = (result.stderr ?? '').trim().split('\n').filter((line) => /ERR!|error/.test(line)).slice(0, 4).join('\n  ');
  say(`could not build the C elementwise loops (needs a C compiler, make, python3 and Node's headers); nabla uses the ` +
    `TypeScript ones (same results, slower). node-gyp said:\n  ${tail}`);
}
process.exit(0);
