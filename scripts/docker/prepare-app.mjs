#!/usr/bin/env node
// Lays out what the runtime image holds, inside the Dockerfile's build stage:
//   node scripts/docker/prepare-app.mjs SOURCE_DIR OUT_DIR
// OUT_DIR/app        package.json, dist/ (the CLI, compiled here), node_modules/ (production packages only),
//                    native/build/Release/nabla_native.node (the C elementwise loops, when built), healthcheck.mjs
// OUT_DIR/volumes    empty /data and /checkpoints, for the runtime user to own
// Uses only Node (no npm, no shell tools), so it runs in the base image made by build-base-image.sh, offline.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';

const [sourceDir, outDir] = process.argv.slice(2);
if (!sourceDir || !outDir) {
  process.stderr.write('usage: node prepare-app.mjs SOURCE_DIR OUT_DIR\n');
  process.exit(2);
}
const source = path.resolve(sourceDir);
const appOut = path.join(path.resolve(outDir), 'app');
const log = (line) => process.stdout.write(`prepare-app: ${line}\n`);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(appOut, { recursive: true });

const compiledDir = compile();
copyDist(compiledDir, path.join(appOut, 'dist'));
copyProductionModules(path.join(source, 'node_modules'), path.join(appOut, 'node_modules'));
copyNativeAddon();
cpSync(path.join(source, 'package.json'), path.join(appOut, 'package.json'));
cpSync(path.join(source, 'scripts/docker/healthcheck.mjs'), path.join(appOut, 'healthcheck.mjs'));
for (const dir of ['data', 'checkpoints']) mkdirSync(path.join(outDir, 'volumes', dir), { recursive: true });
log(`app: ${megabytes(appOut)} MB (dist ${megabytes(path.join(appOut, 'dist'))} MB, node_modules ${megabytes(path.join(appOut, 'node_modules'))} MB)`);

/** Compiles the CLI from the sources when TypeScript is installed; otherwise uses the dist/ of the build context. */
function compile() {
  const tsc = path.join(source, 'node_modules/typescript/bin/tsc');
  if (existsSync(tsc)) {
    const out = path.join(path.resolve(outDir), 'compiled');
    log('compiling the sources (tsc -p scripts/docker/tsconfig.image.json)');
    try {
      execFileSync(process.execPath, [tsc, '-p', path.join(source, 'scripts/docker/tsconfig.image.json'), '--outDir', out], { stdio: 'inherit' });
    } catch {
      process.stderr.write('prepare-app: tsc failed (errors above): the sources must compile, as for `npm run build`\n');
      process.exit(1);
    }
    return out;
  }
  const prebuilt = path.join(source, 'dist');
  if (!existsSync(path.join(prebuilt, 'bin/nabla.js'))) {
    throw new Error('no TypeScript in node_modules (a production-only install?) and no dist/bin/nabla.js in the build context: run `npm run build` first');
  }
  log('no TypeScript in node_modules: using the dist/ of the build context as it is');
  return prebuilt;
}

/** The compiled CLI without tests, benchmarks and source maps. */
function copyDist(from, to) {
  cpSync(from, to, {
    recursive: true,
    filter: (file) => {
      const relative = path.relative(from, file).split(path.sep);
      if (['test', 'bench', 'vitest.config.js'].includes(relative[0])) return false;
      const name = relative[relative.length - 1];
      return !name.endsWith('.map') && !name.endsWith('.test.js') && !name.endsWith('.d.ts');
    },
  });
}

/**
 * node_modules less what the runtime never loads: packages package-lock.json marks as dev-only (the compiler, the
 * test runner), npm's .bin links, source maps, type declarations, bundle-size reports and native build leftovers.
 */
function copyProductionModules(from, to) {
  if (!existsSync(from)) throw new Error(`no ${from}: install the dependencies (npm ci) first`);
  const devOnly = devOnlyPackages(path.join(source, 'package-lock.json'));
  let skippedPackages = 0;
  cpSync(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (file) => {
      const relative = path.relative(source, file).split(path.sep).join('/');
      if (devOnly.has(relative)) {
        skippedPackages++;
        return false;
      }
      const name = path.basename(file);
      if (name === '.bin' || name === '.package-lock.json' || name === 'obj.target' || name === '.deps') return false;
      return !(/\.(map|d\.ts|d\.mts|d\.cts|tsbuildinfo)$/.test(name) || name.endsWith('.min.js.html'));
    },
  });
  log(`node_modules: ${skippedPackages} dev-only packages left out`);
}

/** The C elementwise loops (native/, built by npm ci's install script) where shared/kernel/elementwise.ts looks for them. */
function copyNativeAddon() {
  const addon = 'native/build/Release/nabla_native.node';
  if (!existsSync(path.join(source, addon))) {
    log(`no ${addon} (no C compiler where npm ci ran?): the image computes with the TypeScript loops, same results, slower`);
    return;
  }
  mkdirSync(path.dirname(path.join(appOut, addon)), { recursive: true });
  cpSync(path.join(source, addon), path.join(appOut, addon));
  log(`${addon}: the C elementwise loops`);
}

/** Paths ("node_modules/x", "node_modules/a/node_modules/b") that package-lock.json marks `"dev": true`. */
function devOnlyPackages(lockPath) {
  if (!existsSync(lockPath)) {
    log('no package-lock.json: keeping every package');
    return new Set();
  }
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  return new Set(Object.entries(lock.packages ?? {}).filter(([key, entry]) => key !== '' && entry.dev === true).map(([key]) => key));
}

function megabytes(dir) {
  let bytes = 0;
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) bytes += statSync(full).size;
    }
  };
  walk(dir);
  return (bytes / 1e6).toFixed(1);
}
