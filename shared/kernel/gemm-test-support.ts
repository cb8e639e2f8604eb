import type { Floats } from './dtype.js';
import type { Gemm } from './gemm.js';

/**
 * Test support for the gemm kernels: a naive reference, random operands laid out with strides and offsets, and an
 * error measure. Used by js-gemm.test.ts and blas-gemm.test.ts; not imported by production code.
 */

/** One dgemm call's shape and layout; lda/ldb/ldc default to the column counts, offsets to 0. */
export interface GemmCase {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra values at the end of each stored row (stride = columns + pad). */
  pad?: number;
  /** Where each matrix starts inside its buffer: a nonzero offset makes the operand a `subarray` view. */
  offset?: number;
}

/** Operands of a case: views (what the kernel receives) over larger buffers (to inspect what surrounds them). */
export interface GemmOperands<F extends Floats = Float64Array> {
  a: F; lda: number;
  b: F; ldb: number;
  c: F; ldc: number;
  /** The whole buffer behind c, so a test can check that nothing outside C's m×n entries changed. */
  cBuffer: F;
  cOffset: number;
}

/** The sentinel in C's padding: any kernel write outside the m×n entries shows up as a changed value. */
export const C_PADDING = -12345.5;

/** C = alpha·op(A)·op(B) + beta·C and y = alpha·x + y straight from the definitions: the oracle for jsGemm. */
export const naiveGemm: Gemm = {
  name: 'naive',
  gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const aip = transA ? a[p * lda + i] : a[i * lda + p];
          const bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
          sum += aip * bpj;
        }
        const old = beta === 0 ? 0 : beta * c[i * ldc + j];
        c[i * ldc + j] = alpha * sum + old;
      }
    }
  },
  axpy(n, alpha, x, y) {
    for (let i = 0; i < n; i++) y[i] = alpha * x[i] + y[i];
  },
};

/** A deterministic uniform stream in [-1, 1) (mulberry32), independent of the project's Rng. */
export function uniformStream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** Random A, B, C for a case. A and B are random everywhere, padding included; C's padding holds C_PADDING. */
export function makeOperands(gemmCase: GemmCase, seed: number): GemmOperands {
  const { transA, transB, m, n, k, pad = 0, offset = 0 } = gemmCase;
  const next = uniformStream(seed);
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  const lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
  const a = randomBuffer(offset + aRows * lda + pad, next).subarray(offset);
  const b = randomBuffer(offset + bRows * ldb + pad, next).subarray(offset);
  const cBuffer = new Float64Array(offset + m * ldc + pad).fill(C_PADDING);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) cBuffer[offset + i * ldc + j] = next();
  return { a, lda, b, ldb, c: cBuffer.subarray(offset), ldc, cBuffer, cOffset: offset };
}

/**
 * The same operands in float32 (`f32`, views at the same offsets), and in float64 holding exactly those float32 values
 * (`rounded`): the oracle's input for judging sgemm by float32 standards.
 */
export function float32Operands(operands: GemmOperands): { f32: GemmOperands<Float32Array>; rounded: GemmOperands } {
  const offset = operands.cOffset;
  const view32 = (x: Float64Array): Float32Array => Float32Array.from(x);
  const f32 = { ...operands, a: view32(operands.a), b: view32(operands.b), cBuffer: view32(operands.cBuffer) };
  const rounded = { ...operands, a: Float64Array.from(f32.a), b: Float64Array.from(f32.b), cBuffer: Float64Array.from(f32.cBuffer) };
  return { f32: { ...f32, c: f32.cBuffer.subarray(offset) }, rounded: { ...rounded, c: rounded.cBuffer.subarray(offset) } };
}

/** Runs a kernel on a copy of the operands and returns the copy of C's whole buffer. */
export function runKernel<F extends Floats>(gemm: Gemm, gemmCase: GemmCase, operands: GemmOperands<F>): F {
  const { transA, transB, m, n, k, alpha, beta } = gemmCase;
  const cBuffer = operands.cBuffer.slice() as F;
  const c = cBuffer.subarray(operands.cOffset) as F;
  gemm.gemm(transA, transB, m, n, k, alpha, operands.a, operands.lda, operands.b, operands.ldb, beta, c, operands.ldc);
  return cBuffer;
}

/**
 * The largest error of `actual` against `expected` over C's buffer, each entry's error divided by the magnitude of
 * the terms that make it up, |alpha|·Σp |op(A)ip|·|op(B)pj| + |beta·Cij| (the scale of the standard rounding bound,
 * which stays meaningful where the sum cancels to near zero). Entries outside C's m×n must match exactly.
 */
export function largestRelativeError(
  gemmCase: GemmCase, operands: GemmOperands, actual: Floats, expected: Floats,
): number {
  const abs = (x: Float64Array): Float64Array => x.map(Math.abs);
  const magnitudes = runKernel(naiveGemm, { ...gemmCase, alpha: Math.abs(gemmCase.alpha), beta: Math.abs(gemmCase.beta) }, {
    ...operands, a: abs(operands.a), b: abs(operands.b), cBuffer: abs(operands.cBuffer),
  });
  const { m, n } = gemmCase;
  const { cOffset, ldc } = operands;
  let worst = 0;
  for (let index = 0; index < expected.length; index++) {
    if (Object.is(actual[index], expected[index])) continue;
    const row = Math.floor((index - cOffset) / ldc), column = (index - cOffset) % ldc;
    if (index < cOffset || row >= m || column >= n) return Infinity; // a write outside C
    const error = Math.abs(actual[index] - expected[index]) / Math.max(magnitudes[index], Number.MIN_VALUE);
    worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
  }
  return worst;
}

/** A short label for test names, e.g. "Aᵀ·B 13×11×17 α=-1.75 β=0.5 strided views". */
export function describeCase(gemmCase: GemmCase): string {
  const { transA, transB, m, n, k, alpha, beta, pad = 0, offset = 0 } = gemmCase;
  const layout = pad === 0 && offset === 0 ? 'packed' : `pad ${pad} offset ${offset}`;
  return `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'} ${m}×${n}×${k} α=${alpha} β=${beta} ${layout}`;
}

function randomBuffer(length: number, next: () => number): Float64Array {
  const buffer = new Float64Array(length);
  for (let i = 0; i < length; i++) buffer[i] = next();
  return buffer;
}
