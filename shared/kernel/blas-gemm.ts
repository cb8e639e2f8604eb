import { createRequire } from 'node:module';
import { types } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import type { Floats } from './dtype.js';
import { axpyLoop, checkAxpyArgs, checkGemmArgs, scaleC, type Gemm } from './gemm.js';
import { chooseCoreType, type CoreChoice } from './openblas-core.js';

/**
 * The OpenBLAS kernel: cblas_dgemm/sgemm through the optional npm package `nblas`, which links Debian's libblas.so.3
 * (libopenblas-dev makes that OpenBLAS). Every call goes through this module because the binding checks nothing:
 * it casts its arguments unchecked, so a wrong type, a short buffer or a bad stride is a segfault, not an exception.
 *
 * What the binding does, read from nblas 2.1.13's routines/level3/gemm.cc and checked by blas-gemm.test.ts:
 * - `dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)` calls
 *   `cblas_dgemm(CblasRowMajor, …)` with the arguments in that order, so lda/ldb/ldc are the row strides of A, B, C
 *   as stored: exactly the `Gemm` contract, passed straight through. (Its convenience `gemm()` wrapper instead
 *   passes lda = k, ldb = n whatever the transpose flags, which is wrong with a transpose; never use it.)
 * - It takes each matrix's address as buffer data + byteOffset, so a `subarray` view works without a copy.
 * - m, n, k and the strides become C `int`s; the Trans flags are the CBLAS enum values 111 (NoTrans) and 112 (Trans).
 * - `daxpy(n, alpha, x, incx, y, incy)` (routines/level1/axpy.cc) calls `cblas_daxpy(n, alpha, x, incx, y, incy)`:
 *   y ← alpha·x + y, n a C `int`, addresses again buffer data + byteOffset. We always pass unit strides.
 * - `sgemm` and `saxpy` are the same with Float32Array operands (alpha and beta become C floats).
 */

/** A `Gemm` backed by native BLAS, with the thread count OpenBLAS was asked for. */
export interface BlasGemm extends Gemm {
  /**
   * The OPENBLAS_NUM_THREADS value in force when OpenBLAS loaded (OpenBLAS caps it at the core count), or undefined
   * when this module cannot know it: loaded in a worker thread, or nblas was loaded before this module loaded it.
   */
  readonly threads: number | undefined;
  /** The OPENBLAS_CORETYPE in force when OpenBLAS loaded, and who chose it (openblas-core.ts); null: OpenBLAS's own detection, or unknown. */
  readonly core: CoreChoice | null;
}

export interface BlasOptions {
  /**
   * BLAS threads for this process. Default 1 (or OPENBLAS_NUM_THREADS when set to a positive integer), because the
   * trainer's parallelism is one worker process per core. OpenBLAS reads it once, when the library loads: only the
   * first successful load decides it, and a later request for a different count throws.
   */
  threads?: number;
}

interface NblasBinding {
  readonly NoTrans: number;
  readonly Trans: number;
  dgemm(
    transA: number, transB: number, m: number, n: number, k: number,
    alpha: number, a: Float64Array, lda: number, b: Float64Array, ldb: number,
    beta: number, c: Float64Array, ldc: number,
  ): void;
  sgemm(
    transA: number, transB: number, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    beta: number, c: Float32Array, ldc: number,
  ): void;
  daxpy(n: number, alpha: number, x: Float64Array, incx: number, y: Float64Array, incy: number): void;
  saxpy(n: number, alpha: number, x: Float32Array, incx: number, y: Float32Array, incy: number): void;
}

type LoadState = { kind: 'loaded'; gemm: BlasGemm } | { kind: 'failed'; reason: unknown };

const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;
/** The binding converts dimensions and strides to C `int`. */
const MAX_INT32 = 2 ** 31 - 1;
/**
 * Below this many elements a daxpy runs as a JS loop: the native call's fixed cost (checks, crossing into C++)
 * outweighs the loop (measured here: ~0.1 µs per call, against ~1 ns per element in JS). Same bits either way.
 */
const NATIVE_AXPY_MIN_LENGTH = 128;

let state: LoadState | undefined;

/**
 * The OpenBLAS `Gemm` ("openblas"), or null when nblas is not installed or does not load (no output either way).
 * The first call loads the library; later calls return the same kernel.
 */
export function loadBlasGemm(options: BlasOptions = {}): BlasGemm | null {
  const { threads } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`loadBlasGemm: threads must be a positive integer, got ${threads}`);
  }
  state ??= load(threads);
  if (state.kind === 'failed') return null;
  const loadedThreads = state.gemm.threads;
  if (threads !== undefined && threads !== loadedThreads) {
    const current = loadedThreads === undefined ? 'an unknown number of threads' : `${loadedThreads} thread(s)`;
    throw new Error(
      `loadBlasGemm: OpenBLAS already runs with ${current}; it reads its thread count once, when it loads, ` +
      `so ask for ${threads} on the first call (in the main thread) or set OPENBLAS_NUM_THREADS=${threads} before starting node`,
    );
  }
  return state.gemm;
}

/** Why the last load attempt failed (for error messages), or undefined when it loaded or was never tried. */
export function blasLoadFailure(): unknown {
  return state?.kind === 'failed' ? state.reason : undefined;
}

function load(threads: number | undefined): LoadState {
  let require: NodeRequire;
  let modulePath: string;
  try {
    require = createRequire(import.meta.url);
    modulePath = require.resolve('nblas');
  } catch (reason) {
    return { kind: 'failed', reason };
  }
  // OpenBLAS reads OPENBLAS_NUM_THREADS once, in its constructor, when the require below loads the shared library.
  // Assigning process.env calls setenv() only in the main thread: a worker thread's process.env is a private copy that
  // native code never sees (checked: the count there is whatever the real environment says, all cores if unset).
  const canSetThreads = isMainThread && !(modulePath in require.cache);
  if (threads !== undefined && !canSetThreads) {
    // A usage error, not "unavailable": thrown before anything is cached, so a later call can still load the kernel.
    throw new Error(
      `loadBlasGemm: cannot set OpenBLAS to ${threads} thread(s) ${isMainThread ? 'after nblas was loaded elsewhere' : 'from a worker thread'}; ` +
      `set OPENBLAS_NUM_THREADS=${threads} before starting node instead`,
    );
  }
  if (canSetThreads) {
    if (threads !== undefined) process.env.OPENBLAS_NUM_THREADS = String(threads);
    // Like `??= '1'`, but also replaces values OpenBLAS would read as "all cores" ('', '0', junk).
    else if (positiveInteger(process.env.OPENBLAS_NUM_THREADS) === undefined) process.env.OPENBLAS_NUM_THREADS = '1';
  }
  // Read by OpenBLAS's constructor too, under the same rule.
  const core = canSetThreads ? chooseCoreType() : null;
  try {
    const binding = require(modulePath) as Partial<NblasBinding>;
    if (binding.NoTrans !== CBLAS_NO_TRANS || binding.Trans !== CBLAS_TRANS) {
      throw new Error('nblas does not export the CBLAS transpose constants 111/112');
    }
    for (const routine of ['dgemm', 'sgemm', 'daxpy', 'saxpy'] as const) {
      if (typeof binding[routine] !== 'function') throw new Error(`nblas does not export ${routine}`);
    }
    const loadedThreads = canSetThreads ? positiveInteger(process.env.OPENBLAS_NUM_THREADS) : undefined;
    return { kind: 'loaded', gemm: createBlasGemm(binding as NblasBinding, loadedThreads, core) };
  } catch (reason) {
    return { kind: 'failed', reason };
  }
}

function createBlasGemm(binding: NblasBinding, threads: number | undefined, core: CoreChoice | null): BlasGemm {
  return {
    // Measured: OpenBLAS with 2 threads gives other bits than with 1 (every count is deterministic on its own), so
    // the count is part of the name workers report, and a cluster mixing counts is warned like one mixing kernels.
    name: threads !== undefined && threads > 1 ? `openblas×${threads}` : 'openblas',
    threads,
    core,
    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      checkNativeArgs(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      checkGemmArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
      if (m === 0 || n === 0) return;
      // k = 0 or alpha = 0 leaves C = beta·C (A and B unread, as in BLAS). Done here so native code never sees an
      // empty A or B, whose stride checkGemmArgs leaves free while the BLAS spec asks for ld >= max(1, columns).
      if (k === 0 || alpha === 0) {
        scaleC(m, n, beta, c, ldc);
        return;
      }
      const ta = transA ? CBLAS_TRANS : CBLAS_NO_TRANS, tb = transB ? CBLAS_TRANS : CBLAS_NO_TRANS;
      // checkGemmArgs proved A, B and C to be of one type.
      if (types.isFloat32Array(c)) binding.sgemm(ta, tb, m, n, k, alpha, a as Float32Array, lda, b as Float32Array, ldb, beta, c, ldc);
      else binding.dgemm(ta, tb, m, n, k, alpha, a as Float64Array, lda, b as Float64Array, ldb, beta, c, ldc);
    },
    axpy(n, alpha, x, y) {
      checkFloatArray('axpy', 'x', x);
      checkFloatArray('axpy', 'y', y);
      checkNumber('axpy', 'alpha', alpha);
      checkAxpyArgs(n, x, y);
      checkInt('axpy', 'n', n);
      if (alpha === 0 || n === 0) return; // as BLAS does: y unchanged, x unread
      if (n < NATIVE_AXPY_MIN_LENGTH) {
        axpyLoop(n, alpha, x, y);
        return;
      }
      if (types.isFloat32Array(y)) binding.saxpy(n, alpha, x as Float32Array, 1, y, 1);
      else binding.daxpy(n, alpha, x as Float64Array, 1, y, 1);
    },
  };
}

/** What checkGemmArgs leaves open but the unchecked native casts need: real float arrays, numbers, C ints. */
function checkNativeArgs(
  m: number, n: number, k: number, alpha: number, a: Floats, lda: number,
  b: Floats, ldb: number, beta: number, c: Floats, ldc: number,
): void {
  // One call per value, no array of pairs: this runs on every GEMM, tens of thousands of times a second.
  checkFloatArray('gemm', 'A', a);
  checkFloatArray('gemm', 'B', b);
  checkFloatArray('gemm', 'C', c);
  checkNumber('gemm', 'alpha', alpha);
  checkNumber('gemm', 'beta', beta);
  checkInt('gemm', 'm', m);
  checkInt('gemm', 'n', n);
  checkInt('gemm', 'k', k);
  checkInt('gemm', 'lda', lda);
  checkInt('gemm', 'ldb', ldb);
  checkInt('gemm', 'ldc', ldc);
}

function checkFloatArray(routine: string, name: string, x: unknown): void {
  if (!types.isFloat64Array(x) && !types.isFloat32Array(x)) throw new TypeError(`${routine}: ${name} must be a Float64Array or Float32Array, got ${describe(x)}`);
}

function checkNumber(routine: string, name: string, value: unknown): void {
  if (typeof value !== 'number') throw new TypeError(`${routine}: ${name} must be a number, got ${describe(value)}`);
}

/** Past the range checks, a value the binding converts to a C `int`. */
function checkInt(routine: string, name: string, value: number): void {
  if (value > MAX_INT32) throw new RangeError(`${routine}: ${name} = ${value} does not fit the BLAS int (at most ${MAX_INT32})`);
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 && Number.isSafeInteger(value) ? value : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
