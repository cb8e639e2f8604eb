import type { Floats } from './dtype.js';

/**
 * The two BLAS operations training needs, in float64 (dgemm, daxpy) or float32 (sgemm, saxpy) by the arrays' type;
 * the operands of one call are all of one type.
 * gemm, the one matrix operation backprop needs, row-major, BLAS semantics:
 *   C[m×n] = alpha · op(A) · op(B) + beta · C,   op(A) is m×k, op(B) is k×n,
 * where op(X) is X or Xᵀ and lda/ldb/ldc are the row strides of A, B, C as stored.
 * beta = 0 overwrites C (a NaN already in C does not leak through).
 * axpy, the vector add of the fixed reduction tree: y[i] ← alpha·x[i] + y[i] for i < n (unit strides; offsets are
 * `subarray` views). With alpha = 1 every kernel gives y[i] = x[i] + y[i] rounded once, the exact bits of a JS `+=`
 * (1·x is exact, and a fused multiply-add of 1·x + y rounds the same sum once; into a Float32Array, JS rounds the
 * float64 sum to float32, which is the correctly rounded float32 sum, as float64 carries more than twice float32's
 * precision), so the tree's sums do not depend on the kernel. Other alphas may round differently (fused or not).
 */
export interface Gemm {
  /** Shown to users: which kernel computes ("js", "openblas"). */
  readonly name: string;
  gemm<F extends Floats>(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: F, lda: number, b: F, ldb: number,
    beta: number, c: F, ldc: number,
  ): void;
  axpy<F extends Floats>(n: number, alpha: number, x: F, y: F): void;
}

/** Checks the operands of a gemm call against their buffers; a wrong call into native code would crash the process. */
export function checkGemmArgs(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Floats, lda: number, b: Floats, ldb: number, c: Floats, ldc: number,
): void {
  // One call per value, no array of pairs: this runs on every GEMM, tens of thousands of times a second.
  if (a.constructor !== c.constructor || b.constructor !== c.constructor) {
    throw new TypeError(`gemm: A, B and C must be of one type, got ${a.constructor.name}, ${b.constructor.name}, ${c.constructor.name}`);
  }
  checkCount('m', m);
  checkCount('n', n);
  checkCount('k', k);
  checkCount('lda', lda);
  checkCount('ldb', ldb);
  checkCount('ldc', ldc);
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  checkMatrix('A', a, aRows, aCols, lda);
  checkMatrix('B', b, bRows, bCols, ldb);
  checkMatrix('C', c, m, n, ldc);
}

/** Checks the operands of an axpy call against their buffers, for the same reason as checkGemmArgs. */
export function checkAxpyArgs(n: number, x: Floats, y: Floats): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`axpy: n must be a non-negative integer, got ${n}`);
  if (x.constructor !== y.constructor) throw new TypeError(`axpy: x is a ${x.constructor.name} but y a ${y.constructor.name}; pass one type`);
  if (x.length < n) throw new RangeError(`axpy: x holds ${x.length} values, n = ${n} needs ${n}`);
  if (y.length < n) throw new RangeError(`axpy: y holds ${y.length} values, n = ${n} needs ${n}`);
  // Partly overlapping operands would make the result depend on the order the kernel walks them in.
  const bytes = x.BYTES_PER_ELEMENT * n;
  if (n > 0 && x.buffer === y.buffer && x.byteOffset !== y.byteOffset &&
      x.byteOffset < y.byteOffset + bytes && y.byteOffset < x.byteOffset + bytes) {
    throw new RangeError('axpy: x and y overlap in one buffer; pass disjoint views (or the same one)');
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${value}`);
}

function checkMatrix(name: string, x: Floats, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  if (ld < Math.max(1, cols)) throw new RangeError(`gemm: ld${name.toLowerCase()} = ${ld} is smaller than ${name}'s ${cols} columns`);
  const needed = (rows - 1) * ld + cols;
  if (x.length < needed) throw new RangeError(`gemm: ${name} holds ${x.length} values, a ${rows}×${cols} matrix with stride ${ld} needs ${needed}`);
}

/** y ← alpha·x + y as a plain loop, on operands already checked: the JS kernel's axpy, and the native one's for short vectors. */
export function axpyLoop(n: number, alpha: number, x: Floats, y: Floats): void {
  if (alpha === 1) for (let i = 0; i < n; i++) y[i] += x[i]; // the tree's case: one rounding, as in every kernel
  else if (alpha !== 0) for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}

/** C ← beta·C over C's m×n entries; beta = 0 overwrites, so a NaN already in C does not leak through. */
export function scaleC(m: number, n: number, beta: number, c: Floats, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else for (let j = 0; j < n; j++) c[row + j] *= beta;
  }
}
