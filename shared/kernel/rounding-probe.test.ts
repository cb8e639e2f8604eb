import { describe, expect, it } from 'vitest';
import { loadBlasGemm } from './blas-gemm.js';
import type { Floats } from './dtype.js';
import type { Gemm } from './gemm.js';
import { jsGemm } from './js-gemm.js';
import { roundingFingerprint } from './rounding-probe.js';

/** jsGemm, except that one product (the call with inner dimension `k` in `type`) comes out 1 ulp off in its first value. */
function oneUlpOff(k: number, type: typeof Float64Array | typeof Float32Array): Gemm {
  return {
    name: 'js',
    axpy: jsGemm.axpy,
    gemm(transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c: Floats, ldc) {
      jsGemm.gemm(transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
      if (kk === k && c instanceof type) c[0] = c instanceof Float64Array ? nextUp64(c[0]) : Math.fround(c[0] * (1 + 2 ** -23));
    },
  };
}

function nextUp64(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigInt64(0, view.getBigInt64(0) + (x >= 0 ? 1n : -1n));
  return view.getFloat64(0);
}

describe('roundingFingerprint', () => {
  const js = roundingFingerprint(jsGemm);

  it('is 16 hex digits, the same every time for one kernel', () => {
    expect(js).toMatch(/^[0-9a-f]{16}$/);
    expect(roundingFingerprint(jsGemm)).toBe(js);
  });

  it.each([[784, 'float64', Float64Array], [1100, 'float64', Float64Array], [3, 'float32', Float32Array], [30, 'float32', Float32Array]] as const)(
    'changes when a single value of one product (k = %i, %s) rounds one ulp differently',
    (k, _, type) => {
      expect(roundingFingerprint(oneUlpOff(k, type))).not.toBe(js);
    },
  );

  it.skipIf(loadBlasGemm() === null)('tells OpenBLAS from the JS kernel (their dot products add in other orders)', () => {
    expect(roundingFingerprint(loadBlasGemm() as Gemm)).not.toBe(js);
  });
});
