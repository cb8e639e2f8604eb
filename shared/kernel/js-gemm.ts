import { axpyLoop, checkAxpyArgs, scaleC, type Gemm } from './gemm.js';

/**
 * Portable gemm and axpy in plain TypeScript: the fallback kernel and the oracle the native one is tested against.
 * Each transpose case runs its loops in the order that walks memory contiguously. On Float32Arrays every store rounds
 * to float32 (dot products accumulate in float64 first, so they can be closer to exact than sgemm's).
 */
export const jsGemm: Gemm = {
  name: 'js',
  gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
    scaleC(m, n, beta, c, ldc);
    if (alpha === 0 || k === 0) return;
    if (!transA && transB) {
      // C[i][j] += alpha · Σp A[i][p]·B[j][p]: both rows contiguous, a dot product.
      for (let i = 0; i < m; i++) {
        const aRow = i * lda;
        const cRow = i * ldc;
        for (let j = 0; j < n; j++) {
          const bRow = j * ldb;
          let sum = 0;
          for (let p = 0; p < k; p++) sum += a[aRow + p] * b[bRow + p];
          c[cRow + j] += alpha * sum;
        }
      }
    } else if (!transA && !transB) {
      // C[i][:] += alpha · Σp A[i][p]·B[p][:]: an axpy of B's rows.
      for (let i = 0; i < m; i++) {
        const cRow = i * ldc;
        for (let p = 0; p < k; p++) {
          const s = alpha * a[i * lda + p];
          const bRow = p * ldb;
          for (let j = 0; j < n; j++) c[cRow + j] += s * b[bRow + j];
        }
      }
    } else if (transA && !transB) {
      // C[i][:] += alpha · Σp A[p][i]·B[p][:]: p outermost keeps both reads contiguous.
      for (let p = 0; p < k; p++) {
        const aRow = p * lda;
        const bRow = p * ldb;
        for (let i = 0; i < m; i++) {
          const s = alpha * a[aRow + i];
          const cRow = i * ldc;
          for (let j = 0; j < n; j++) c[cRow + j] += s * b[bRow + j];
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += a[p * lda + i] * b[j * ldb + p];
          c[i * ldc + j] += alpha * sum;
        }
      }
    }
  },
  axpy(n, alpha, x, y) {
    checkAxpyArgs(n, x, y); // no crash at stake here, but both kernels refuse the same calls
    axpyLoop(n, alpha, x, y);
  },
};
