import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Tf } from './tfjs-gradient.js';

/** Which TensorFlow.js backend to use; 'auto' takes the fastest one that loads. */
export type TfBackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface LoadedTf {
  tf: Tf;
  /** The backend actually in use, as tf.getBackend() reports it: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  backend: string;
  /** Why faster backends were passed over, e.g. "tensorflow: Cannot find package '@tensorflow/tfjs-node' …". */
  skipped: string[];
}

/**
 * Order tried by 'auto'. tfjs-node (native libtensorflow, multithreaded) first wherever it installed; it cannot
 * install here, so it is unmeasured. Then wasm before cpu, measured with one referenceGradient call (tf.grads over
 * the whole network, inputs converted to float32 included), warm, median of 25, three runs, Node 20.20, 2 cores:
 *   sizes               batch   wasm (XNNPACK SIMD, 1 thread)   cpu (plain JS)
 *   [784,30,10]            10     1.2–1.8 ms (min 0.7)            1.5–2.8 ms (min 1.1)   per-op overhead dominates
 *   [784,256,256,10]      128     52–57 ms (min 49)               112–120 ms (min 109)
 * Through ReferenceChecker's thread (wasm): 1.2 / 49 ms in the thread, 2.1 / 52 ms round trip with the copies.
 * A first call takes 7–65 ms (wasm) or 22–120 ms (cpu) while kernels warm up. wasm is single-threaded in Node
 * (tfjs disables wasm threads there), which suits a check that must leave the cores to the workers.
 */
const AUTO_ORDER: readonly Exclude<TfBackendPreference, 'auto'>[] = ['tensorflow', 'wasm', 'cpu'];

/**
 * Loads TensorFlow.js with the best backend available: @tensorflow/tfjs-node when it installed (an optional
 * dependency whose native download fails in some environments), else @tensorflow/tfjs-backend-wasm, else the
 * pure-JS cpu backend of @tensorflow/tfjs. Verifies the chosen backend with a small known product before
 * returning it, and silences tfjs's "install tfjs-node" banner (prod mode) since we report the backend ourselves.
 */
export async function loadTf(preference: TfBackendPreference = 'auto'): Promise<LoadedTf> {
  const order = preference === 'auto' ? AUTO_ORDER : [preference];
  const skipped: string[] = [];
  for (const backend of order) {
    try {
      const tf = await LOADERS[backend]();
      // Prod mode only mutes tfjs's console warnings (the banner, deprecations); failures still throw.
      tf.enableProdMode();
      verifyBackend(tf, backend);
      return { tf, backend: tf.getBackend(), skipped };
    } catch (error) {
      skipped.push(`${backend}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded (${skipped.join('; ')})`);
}

const LOADERS: Record<Exclude<TfBackendPreference, 'auto'>, () => Promise<Tf>> = {
  tensorflow: loadTfjsNode,
  wasm: loadWasm,
  cpu: async () => useBackend(await importTfjs(), 'cpu'),
};

async function loadTfjsNode(): Promise<Tf> {
  // libtensorflow logs CPU-feature notices at startup; level 2 keeps warnings and errors only.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // A variable specifier: the package is optional, so the compiler must not require its types.
  const specifier = '@tensorflow/tfjs-node';
  const module = (await import(specifier)) as { default?: Tf } & Partial<Tf>;
  // tfjs-node re-exports @tensorflow/tfjs and registers its backend on the core it was built against: use its
  // namespace, so a second copy of tfjs-core elsewhere in node_modules cannot leave us on another engine.
  const tf = (module.default ?? module) as Tf;
  return useBackend(tf, 'tensorflow');
}

async function loadWasm(): Promise<Tf> {
  const tf = await importTfjs();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  if (!existsSync(path.join(wasmDir, 'tfjs-backend-wasm-simd.wasm'))) throw new Error(`no .wasm binaries in ${wasmDir}`);
  // In Node, Emscripten reads the binary with fs from prefix + file name: a directory path ending in a separator.
  try {
    wasm.setWasmPaths(wasmDir + path.sep);
  } catch (error) {
    // Thrown only once an earlier initialisation has failed in this thread; setBackend below reports it.
    if (tf.findBackend('wasm') === null) throw error;
  }
  // Emscripten's Node glue, run when the backend initialises, adds process-wide 'uncaughtException' and
  // 'unhandledRejection' listeners that rethrow: any late-handled rejection anywhere in the host then kills it (we
  // saw it end a vitest worker). Remove exactly the listeners it added, so the host keeps its own policy.
  const before = { uncaught: process.listeners('uncaughtException'), unhandled: process.listeners('unhandledRejection') };
  try {
    return await useBackend(tf, 'wasm');
  } finally {
    for (const listener of process.listeners('uncaughtException')) {
      if (!before.uncaught.includes(listener)) process.off('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!before.unhandled.includes(listener)) process.off('unhandledRejection', listener);
    }
  }
}

async function importTfjs(): Promise<Tf> {
  return (await import('@tensorflow/tfjs')) as Tf;
}

async function useBackend(tf: Tf, name: string): Promise<Tf> {
  // setBackend resolves false (it does not throw) when the backend's initialisation fails.
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed to initialise`);
  await tf.ready();
  return tf;
}

/** A product with a known answer on the chosen backend, so a half-initialised backend fails here, not mid-check. */
function verifyBackend(tf: Tf, expected: string): void {
  const actual = tf.getBackend();
  if (actual !== expected) throw new Error(`asked for backend '${expected}', tfjs is using '${actual}'`);
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync());
  const want = [19, 22, 43, 50];
  if (!want.every((value, i) => product[i] === value)) {
    throw new Error(`backend '${actual}' computed [${Array.from(product).join(',')}] for a product whose answer is [${want.join(',')}]`);
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return message.split('\n')[0];
}
