import { describe, expect, it } from 'vitest';
import {
  describeCase, largestRelativeError, makeOperands, naiveGemm, runKernel, type GemmCase,
} from './gemm-test-support.js';
import { jsGemm } from './js-gemm.js';

const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;
const SHAPES = [[1, 1, 1], [1, 7, 5], [7, 1, 5], [6, 4, 1], [1, 1, 9], [3, 5, 7], [13, 11, 17], [33, 65, 17]] as const;

function cases(transA: boolean, transB: boolean, m: number, n: number, k: number): GemmCase[] {
  const all: GemmCase[] = [];
  for (const alpha of [1, -1.75]) {
    for (const beta of [0, 1, 0.5]) {
      all.push({ transA, transB, m, n, k, alpha, beta });
      all.push({ transA, transB, m, n, k, alpha, beta, pad: 3, offset: 5 });
    }
  }
  return all;
}

describe('jsGemm', () => {
  describe.each(TRANSPOSES)('with transA=%s, transB=%s', (transA, transB) => {
    it.each(SHAPES)('agrees with the naive triple loop for m=%i, n=%i, k=%i', (m, n, k) => {
      for (const [index, gemmCase] of cases(transA, transB, m, n, k).entries()) {
        const operands = makeOperands(gemmCase, 1000 * m + 100 * n + k + index);
        const actual = runKernel(jsGemm, gemmCase, operands);
        const expected = runKernel(naiveGemm, gemmCase, operands);
        expect(largestRelativeError(gemmCase, operands, actual, expected), describeCase(gemmCase)).toBeLessThan(1e-12);
      }
    });

    it('overwrites a NaN already in C when beta is 0', () => {
      const gemmCase: GemmCase = { transA, transB, m: 4, n: 3, k: 5, alpha: 1, beta: 0, pad: 2 };
      const operands = makeOperands(gemmCase, 7);
      for (let i = 0; i < 4; i++) operands.c.fill(Number.NaN, i * operands.ldc, i * operands.ldc + 3);
      const actual = runKernel(jsGemm, gemmCase, operands);
      expect(actual.some(Number.isNaN)).toBe(false);
      expect(largestRelativeError(gemmCase, operands, actual, runKernel(naiveGemm, gemmCase, operands))).toBeLessThan(1e-12);
    });
  });

  it('scales C by beta when k is 0', () => {
    const c = Float64Array.of(1, 2, 3, 4, 5, 6);
    jsGemm.gemm(false, false, 2, 3, 0, 1, new Float64Array(0), 0, new Float64Array(0), 3, 0.5, c, 3);
    expect(Array.from(c)).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
  });
});
