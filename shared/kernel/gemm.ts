/**
 * The two BLAS operations training needs.
 * dgemm, the one matrix operation backprop needs, row-major, BLAS semantics:
 *   C[m×n] = alpha · op(A) · op(B) + beta · C,   op(A) is m×k, op(B) is k×n,
 * where op(X) is X or Xᵀ and lda/ldb/ldc are the row strides of A, B, C as stored.
 * beta = 0 overwrites C (a NaN already in C does not leak through).
 * daxpy, the vector add of the fixed reduction tree: y[i] ← alpha·x[i] + y[i] for i < n (unit strides; offsets are
 * `subarray` views). With alpha = 1 every kernel gives y[i] = x[i] + y[i] rounded once, the exact bits of a JS `+=`
 * (1·x is exact, and a fused multiply-add of 1·x + y rounds the same sum once), so the tree's sums do not depend on
 * the kernel. Other alphas may round differently from kernel to kernel (fused or not).
 */
export interface Gemm {
  /** Shown to users: which kernel computes ("js", "openblas"). */
  readonly name: string;
  dgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float64Array, lda: number, b: Float64Array, ldb: number,
    beta: number, c: Float64Array, ldc: number,
  ): void;
  daxpy(n: number, alpha: number, x: Float64Array, y: Float64Array): void;
}

/** Checks the operands of a dgemm call against their buffers; a wrong call into native code would crash the process. */
export function checkGemmArgs(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float64Array, lda: number, b: Float64Array, ldb: number, c: Float64Array, ldc: number,
): void {
  // One call per value, no array of pairs: this runs on every GEMM, tens of thousands of times a second.
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

/** Checks the operands of a daxpy call against their buffers, for the same reason as checkGemmArgs. */
export function checkAxpyArgs(n: number, x: Float64Array, y: Float64Array): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`daxpy: n must be a non-negative integer, got ${n}`);
  if (x.length < n) throw new RangeError(`daxpy: x holds ${x.length} values, n = ${n} needs ${n}`);
  if (y.length < n) throw new RangeError(`daxpy: y holds ${y.length} values, n = ${n} needs ${n}`);
  // Partly overlapping operands would make the result depend on the order the kernel walks them in.
  if (n > 0 && x.buffer === y.buffer && x.byteOffset !== y.byteOffset &&
      x.byteOffset < y.byteOffset + 8 * n && y.byteOffset < x.byteOffset + 8 * n) {
    throw new RangeError('daxpy: x and y overlap in one buffer; pass disjoint views (or the same one)');
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`dgemm: ${name} must be a non-negative integer, got ${value}`);
}

function checkMatrix(name: string, x: Float64Array, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  if (ld < Math.max(1, cols)) throw new RangeError(`dgemm: ld${name.toLowerCase()} = ${ld} is smaller than ${name}'s ${cols} columns`);
  const needed = (rows - 1) * ld + cols;
  if (x.length < needed) throw new RangeError(`dgemm: ${name} holds ${x.length} values, a ${rows}×${cols} matrix with stride ${ld} needs ${needed}`);
}
