import { describe, expect, it } from 'vitest';
import { loadBlasGemm } from './blas-gemm.js';
import {
  C_PADDING, describeCase, float32Operands, largestRelativeError, makeOperands, runKernel, type GemmCase,
} from './gemm-test-support.js';
import { jsGemm } from './js-gemm.js';
import { describeKernel, selectGemm } from './select.js';
import { chooseCoreType, describeCore, type CoreChoice } from './openblas-core.js';
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { thrownBy } from '../../test/support/thrown.js';

const threadsBeforeLoad = process.env.OPENBLAS_NUM_THREADS;
const coreBeforeLoad = process.env.OPENBLAS_CORETYPE;
const blas = loadBlasGemm();
const SKIP_REASON = 'nblas is not loadable (install libopenblas-dev and run `npm rebuild nblas`): OpenBLAS kernel tests skipped';
if (blas === null) console.warn(SKIP_REASON);

const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;
const SHAPES = [
  [1, 1, 1], [1, 7, 5], [7, 1, 5], [6, 4, 1], [1, 1, 9], [3, 5, 7], [13, 11, 17], [33, 65, 17], [64, 64, 64],
  [130, 70, 257],
] as const;

describe.skipIf(blas === null)('the OpenBLAS kernel', () => {
  const kernel = blas!;

  function cases(transA: boolean, transB: boolean, m: number, n: number, k: number): GemmCase[] {
    const all: GemmCase[] = [];
    for (const alpha of [1, -1.75]) {
      for (const beta of [0, 1, 0.5]) {
        all.push({ transA, transB, m, n, k, alpha, beta });
        all.push({ transA, transB, m, n, k, alpha, beta, pad: 3, offset: 5 });
        all.push({ transA, transB, m, n, k, alpha, beta, pad: 1, offset: 1 });
      }
    }
    return all;
  }

  it('is named openblas and runs with one thread unless OPENBLAS_NUM_THREADS said otherwise (then named with the count)', () => {
    const expectedThreads = threadsBeforeLoad !== undefined && /^\s*[1-9]\d*\s*$/.test(threadsBeforeLoad) ? Number(threadsBeforeLoad) : 1;
    expect(kernel.name).toBe(expectedThreads === 1 ? 'openblas' : `openblas×${expectedThreads}`);
    expect(kernel.threads).toBe(expectedThreads);
    expect(process.env.OPENBLAS_NUM_THREADS).toBe(String(expectedThreads));
  });

  it('runs the core type OPENBLAS_CORETYPE names, or else the one the CPU flags call for (openblas-core.ts)', () => {
    // (A worker thread cannot set what OpenBLAS reads: there the kernel knows nothing of its core type.)
    const expected: CoreChoice | null = !isMainThread ? null : coreBeforeLoad?.trim()
      ? { core: coreBeforeLoad.trim(), source: 'OPENBLAS_CORETYPE' }
      : chooseCoreType({}, () => readFileSync('/proc/cpuinfo', 'utf8'));
    expect(kernel.core).toEqual(expected);
    expect(process.env.OPENBLAS_CORETYPE).toBe(expected?.core);
    expect(describeKernel(kernel)).toBe(expected ? `openblas (${describeCore(expected)})` : 'openblas');
  });

  describe.each(TRANSPOSES)('with transA=%s, transB=%s', (transA, transB) => {
    it.each(SHAPES)('agrees with jsGemm to 1e-12 for m=%i, n=%i, k=%i', (m, n, k) => {
      for (const [index, gemmCase] of cases(transA, transB, m, n, k).entries()) {
        const operands = makeOperands(gemmCase, 7919 * m + 131 * n + k + index);
        const actual = runKernel(kernel, gemmCase, operands);
        const expected = runKernel(jsGemm, gemmCase, operands);
        expect(largestRelativeError(gemmCase, operands, actual, expected), describeCase(gemmCase)).toBeLessThan(1e-12);
      }
    });

    it.each(SHAPES)('computes in float32 to float32 precision (sgemm) for m=%i, n=%i, k=%i', (m, n, k) => {
      for (const [index, gemmCase] of cases(transA, transB, m, n, k).entries()) {
        const { f32, rounded } = float32Operands(makeOperands(gemmCase, 7919 * m + 131 * n + k + index));
        const actual = runKernel(kernel, gemmCase, f32);
        expect(actual).toBeInstanceOf(Float32Array);
        // Measured against the exact product of the same float32 inputs: a float32 dot product of k terms errs
        // by at most about k·2⁻²⁴ of the terms' magnitude; blocked and fused sums do far better.
        const error = largestRelativeError(gemmCase, rounded, actual, runKernel(jsGemm, gemmCase, rounded));
        expect(error, describeCase(gemmCase)).toBeLessThan(Math.max(4, k) * 2 ** -24);
        expect(error, describeCase(gemmCase)).toBeGreaterThan(0); // float32 arithmetic really ran
      }
    });

    it('overwrites NaN and Infinity already in C when beta is 0', () => {
      const gemmCase: GemmCase = { transA, transB, m: 5, n: 4, k: 6, alpha: 1.5, beta: 0, pad: 2, offset: 3 };
      const operands = makeOperands(gemmCase, 11);
      for (let i = 0; i < 5; i++) operands.c.fill(i % 2 === 0 ? Number.NaN : Infinity, i * operands.ldc, i * operands.ldc + 4);
      const actual = runKernel(kernel, gemmCase, operands);
      expect(actual.every(Number.isFinite)).toBe(true);
      expect(largestRelativeError(gemmCase, operands, actual, runKernel(jsGemm, gemmCase, operands))).toBeLessThan(1e-12);
    });
  });

  it('reads and writes operands that are views into one shared buffer', () => {
    // A workspace-like layout: A (3×4), B (4×2) and C (3×2) side by side in one Float64Array, with gaps.
    const workspace = new Float64Array(64).fill(C_PADDING);
    const a = workspace.subarray(1, 13), b = workspace.subarray(17, 25), c = workspace.subarray(29, 35);
    a.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    b.set([1, 0, 0, 1, 1, 1, 2, -1]);
    c.fill(Number.NaN);
    const expected = workspace.slice();
    expected.set([12, 1, 28, 5, 44, 9], 29); // C = A·B worked by hand
    kernel.gemm(false, false, 3, 2, 4, 1, a, 4, b, 2, 0, c, 2);
    expect(Array.from(workspace)).toEqual(Array.from(expected));
  });

  it('handles m, n or k = 0 without reading the empty operands', () => {
    const c = Float64Array.of(1, 2, Number.NaN, 3, 4, 5);
    kernel.gemm(false, true, 2, 3, 0, 1, new Float64Array(0), 0, new Float64Array(0), 0, 0.5, c, 3);
    expect(Array.from(c)).toEqual([0.5, 1, Number.NaN, 1.5, 2, 2.5]);
    kernel.gemm(true, false, 2, 3, 0, 1, new Float64Array(0), 0, new Float64Array(0), 0, 0, c, 3);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
    kernel.gemm(false, false, 0, 3, 4, 1, new Float64Array(0), 4, new Float64Array(12), 3, 0, new Float64Array(0), 3);
    kernel.gemm(false, false, 2, 0, 4, 1, new Float64Array(8), 4, new Float64Array(0), 0, 0, new Float64Array(0), 0);
  });

  it('treats alpha = 0 as C = beta·C, ignoring NaN in A and B as BLAS does', () => {
    const c = Float64Array.of(Number.NaN, 2);
    kernel.gemm(false, false, 1, 2, 1, 0, Float64Array.of(Number.NaN), 1, Float64Array.of(1, 1), 2, 0, c, 2);
    expect(Array.from(c)).toEqual([0, 0]);
  });

  describe('rejects a wrong call with an exception instead of crashing', () => {
    // Each call would make cblas_dgemm read or write outside a buffer, or misread an argument.
    const m = 3, n = 4, k = 5;
    const a = () => new Float64Array(m * k), b = () => new Float64Array(k * n);
    const wrongCalls: [string, ErrorConstructor, RegExp, (c: Float64Array) => void][] = [
      ['A one value short', RangeError, /A holds 14 values/, (c) => kernel.gemm(false, false, m, n, k, 1, new Float64Array(14), k, b(), n, 0, c, n)],
      ['B too short for its stride', RangeError, /B holds 20 values/, (c) => kernel.gemm(false, false, m, n, k, 1, a(), k, b(), n + 1, 0, c, n)],
      ['C too short', RangeError, /C holds 12 values, a 3×4 matrix with stride 5 needs 14/, (c) => kernel.gemm(false, false, m, n, k, 1, a(), k, b(), n, 0, c, n + 1)],
      ['lda smaller than the columns of A', RangeError, /lda = 4 is smaller than A's 5 columns/, (c) => kernel.gemm(false, false, m, n, k, 1, a(), k - 1, b(), n, 0, c, n)],
      ['lda smaller than the columns of a transposed A', RangeError, /lda = 2 is smaller than A's 3 columns/, (c) => kernel.gemm(true, false, m, n, k, 1, a(), m - 1, b(), n, 0, c, n)],
      ['ldb smaller than the columns of a transposed B', RangeError, /ldb = 4 is smaller than B's 5 columns/, (c) => kernel.gemm(false, true, m, n, k, 1, a(), k, b(), k - 1, 0, c, n)],
      ['ldc smaller than n', RangeError, /ldc = 3 is smaller than C's 4 columns/, (c) => kernel.gemm(false, false, m, n, k, 1, a(), k, b(), n, 0, c, n - 1)],
      ['a negative m', RangeError, /m must be a non-negative integer, got -1/, (c) => kernel.gemm(false, false, -1, n, k, 1, a(), k, b(), n, 0, c, n)],
      ['a negative k', RangeError, /k must be a non-negative integer, got -5/, (c) => kernel.gemm(false, false, m, n, -5, 1, a(), k, b(), n, 0, c, n)],
      ['a fractional n', RangeError, /n must be a non-negative integer, got 2.5/, (c) => kernel.gemm(false, false, m, 2.5, k, 1, a(), k, b(), n, 0, c, n)],
      ['a NaN stride', RangeError, /ldc must be a non-negative integer, got NaN/, (c) => kernel.gemm(false, false, m, n, k, 1, a(), k, b(), n, 0, c, Number.NaN)],
      ['a stride beyond the BLAS int', RangeError, /lda = 2147483648 does not fit/, (c) => kernel.gemm(false, false, 1, n, 1, 1, new Float64Array(1), 2 ** 31, new Float64Array(n), n, 0, c, n)],
      ['a plain array for A', TypeError, /A must be a Float64Array or Float32Array, got Array/, (c) => kernel.gemm(false, false, m, n, k, 1, new Array(15).fill(0) as unknown as Float64Array, k, b(), n, 0, c, n)],
      ['a Float32Array for B among Float64Arrays', TypeError, /A, B and C must be of one type, got Float64Array, Float32Array, Float64Array/, (c) => kernel.gemm(false, false, m, n, k, 1, a(), k, new Float32Array(20) as unknown as Float64Array, n, 0, c, n)],
      ['an Int32Array for C', TypeError, /C must be a Float64Array or Float32Array, got Int32Array/, () => kernel.gemm(false, false, m, n, k, 1, a(), k, b(), n, 0, new Int32Array(12) as unknown as Float64Array, n)],
      ['a string for alpha', TypeError, /alpha must be a number, got string/, (c) => kernel.gemm(false, false, m, n, k, '1' as unknown as number, a(), k, b(), n, 0, c, n)],
    ];

    it.each(wrongCalls)('%s', (_label, errorClass, message, call) => {
      const c = Float64Array.from({ length: m * n }, (_, i) => i);
      const before = c.slice();
      const thrown = thrownBy(() => call(c));
      expect(thrown).toBeInstanceOf(errorClass);
      expect((thrown as Error).message).toMatch(message);
      expect(Array.from(c)).toEqual(Array.from(before)); // rejected before anything was written
    });

    it('still computes correctly after the rejected calls (the process survived them)', () => {
      const c = new Float64Array(1);
      kernel.gemm(false, true, 1, 1, 3, 2, Float64Array.of(1, 2, 3), 3, Float64Array.of(4, 5, 6), 3, 0, c, 1);
      expect(c[0]).toBe(64);
    });
  });

  describe('thread count', () => {
    it('returns the same kernel when asked again, with or without the same thread count', () => {
      expect(loadBlasGemm()).toBe(kernel);
      expect(loadBlasGemm({ threads: kernel.threads })).toBe(kernel);
    });

    it('refuses a different thread count once OpenBLAS has loaded', () => {
      expect(() => loadBlasGemm({ threads: (kernel.threads ?? 1) + 1 })).toThrow(/reads its thread count once, when it loads/);
    });

    it('rejects a thread count that is not a positive integer', () => {
      for (const threads of [0, -1, 1.5, Number.NaN]) {
        expect(() => loadBlasGemm({ threads })).toThrow(RangeError);
      }
    });
  });

  it('is what selectGemm picks for auto and blas', () => {
    expect(selectGemm('auto')).toBe(kernel);
    expect(selectGemm('blas')).toBe(kernel);
    expect(selectGemm('js')).toBe(jsGemm);
  });
});
