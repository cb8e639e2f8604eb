import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a sibling module, named without extension (`new URL('./reference-thread', import.meta.url)`),
 * whichever form this code is running from:
 * - compiled (`npm run build`, dist/…/x.js, the installed CLI): the sibling `.js` exists and runs as it is;
 * - sources (vitest runs the `.ts` files in place; no `.js` sits beside them): Node 20 cannot run TypeScript, so the
 *   thread starts with a tiny bootstrap that registers module hooks (node:module register) which transpile each
 *   `.ts` it imports with the project's own `typescript` package (a devDependency, so present wherever the sources
 *   are) and map the `./x.js` specifiers of our ESM sources to `./x.ts`. No type checking: `tsc` does that.
 * This keeps one thread file and one code path for the checker; tests exercise the thread for real.
 */
export function startModuleThread(moduleWithoutExtension: URL, workerData: unknown): Worker {
  const compiled = new URL(`${moduleWithoutExtension.href}.js`);
  if (existsSync(compiled)) return new Worker(compiled, { workerData: { data: workerData } });
  const source = new URL(`${moduleWithoutExtension.href}.ts`);
  if (!existsSync(source)) {
    throw new Error(`cannot start thread: neither ${fileURLToPath(compiled)} nor ${fileURLToPath(source)} exists`);
  }
  let typescriptUrl: string;
  try {
    typescriptUrl = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
  } catch {
    throw new Error(`cannot start thread ${fileURLToPath(source)}: running from .ts sources needs the 'typescript' package (npm install), or build first (npm run build)`);
  }
  const hooksUrl = `data:text/javascript,${encodeURIComponent(TS_HOOKS)}`;
  return new Worker(BOOTSTRAP, { eval: true, workerData: { boot: { hooksUrl, typescriptUrl, entryUrl: source.href }, data: workerData } });
}

/** Inside the thread: the workerData given to startModuleThread (wrapped, so the bootstrap can carry its own). */
export function threadData<T>(raw: unknown): T {
  return (raw as { data: T }).data;
}

// CommonJS, as Node evaluates `eval: true` worker code. The hooks must be registered before the entry is imported.
const BOOTSTRAP = `
const { register } = require('node:module');
const { workerData } = require('node:worker_threads');
register(workerData.boot.hooksUrl, { data: { typescriptUrl: workerData.boot.typescriptUrl } });
import(workerData.boot.entryUrl).catch((error) => { process.nextTick(() => { throw error; }); });
`;

// Module hooks (run on Node's hooks thread). A data: URL cannot resolve bare specifiers, hence typescriptUrl.
const TS_HOOKS = `
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
let ts;
export async function initialize({ typescriptUrl }) {
  const module = await import(typescriptUrl);
  ts = module.default ?? module;
}
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const parent = context.parentURL;
    if (parent?.startsWith('file:') && /^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) {
      const url = new URL(specifier.slice(0, -3) + '.ts', parent);
      if (existsSync(url)) return { url: url.href, shortCircuit: true };
    }
    throw error;
  }
}
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, inlineSources: true },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
`;
