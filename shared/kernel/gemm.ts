/**
 * The one matrix operation backprop needs, row-major, BLAS semantics:
 *   C[m×n] = alpha · op(A) · op(B) + beta · C,   op(A) is m×k, op(B) is k×n,
 * where op(X) is X or Xᵀ and lda/ldb/ldc are the row strides of A, B, C as stored.
 * beta = 0 overwrites C (a NaN already in C does not leak through).
 */
export interface Gemm {
  /** Shown to users: which kernel computes ("js", "openblas"). */
  readonly name: string;
  dgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float64Array, lda: number, b: Float64Array, ldb: number,
    beta: number, c: Float64Array, ldc: number,
  ): void;
}

/** Checks the operands of a dgemm call against their buffers; a wrong call into native code would crash the process. */
export function checkGemmArgs(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float64Array, lda: number, b: Float64Array, ldb: number, c: Float64Array, ldc: number,
): void {
  for (const [name, value] of [['m', m], ['n', n], ['k', k], ['lda', lda], ['ldb', ldb], ['ldc', ldc]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`dgemm: ${name} must be a non-negative integer, got ${value}`);
  }
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  checkMatrix('A', a, aRows, aCols, lda);
  checkMatrix('B', b, bRows, bCols, ldb);
  checkMatrix('C', c, m, n, ldc);
}

function checkMatrix(name: string, x: Float64Array, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  if (ld < Math.max(1, cols)) throw new RangeError(`dgemm: ld${name.toLowerCase()} = ${ld} is smaller than ${name}'s ${cols} columns`);
  const needed = (rows - 1) * ld + cols;
  if (x.length < needed) throw new RangeError(`dgemm: ${name} holds ${x.length} values, a ${rows}×${cols} matrix with stride ${ld} needs ${needed}`);
}
