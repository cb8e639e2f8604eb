import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadBlasGemm } from './blas-gemm.js';
import { uniformStream } from './gemm-test-support.js';
import type { Gemm } from './gemm.js';
import { jsGemm } from './js-gemm.js';
import { thrownBy } from '../../test/support/thrown.js';

const blas = loadBlasGemm();
if (blas === null) console.warn('nblas is not loadable: the OpenBLAS daxpy cases are skipped, the JS ones still run');
const kernels: Gemm[] = blas === null ? [jsGemm] : [jsGemm, blas];

const MIN_NORMAL = 2 ** -1022;
/** Doubles the tree's sums could meet, weighted towards the awkward ones. */
const element = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -1, max: 1, noNaN: true }) },
  { weight: 3, arbitrary: fc.double({ noNaN: true }) }, // every finite double and ±Infinity
  { weight: 2, arbitrary: fc.double({ min: -MIN_NORMAL, max: MIN_NORMAL, noNaN: true }) }, // subnormals and ±0
  { weight: 1, arbitrary: fc.constantFrom(0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 1023, -(2 ** 1023)) },
);
/** Lengths on both sides of the native kernel's JS cut-off, and views at odd offsets into larger buffers. */
const operands = fc.record({
  pairs: fc.array(fc.tuple(element, element), { maxLength: 1200, size: 'max' }), // 'max': lengths up to 1200, not ~10
  xOffset: fc.integer({ min: 0, max: 5 }),
  yOffset: fc.integer({ min: 0, max: 5 }),
});

function view(values: number[], offset: number): Float64Array {
  const buffer = new Float64Array(offset + values.length + 3).fill(-777.25);
  buffer.set(values, offset);
  return buffer.subarray(offset, offset + values.length);
}

/** Bits equal, except that any NaN matches any NaN (∞ − ∞ may give NaNs with different payloads). */
function sameBits(actual: Float64Array, expected: Float64Array): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(actual[i]) && Number.isNaN(expected[i])) continue;
    if (!Object.is(actual[i], expected[i])) return false; // Object.is tells -0 from +0
  }
  return true;
}

describe.each(kernels.map((kernel) => [kernel.name, kernel] as const))('axpy of the %s kernel', (_name, kernel) => {
  test.prop([operands], { numRuns: 300 })('with alpha = 1 gives exactly the bits of x[i] + y[i]', ({ pairs, xOffset, yOffset }) => {
    const x = view(pairs.map(([a]) => a), xOffset);
    const y = view(pairs.map(([, b]) => b), yOffset);
    const expected = Float64Array.from(pairs, ([a, b]) => a + b);
    const yBuffer = new Float64Array(y.buffer);
    kernel.axpy(pairs.length, 1, x, y);
    expect(sameBits(y, expected)).toBe(true);
    // Nothing outside y's n values was written.
    expect(yBuffer.subarray(0, yOffset).every((v) => v === -777.25)).toBe(true);
    expect(yBuffer.subarray(yOffset + pairs.length).every((v) => v === -777.25)).toBe(true);
  });

  it('adds gradient-sized vectors (the big net\'s 269,322 values) bit for bit', () => {
    const next = uniformStream(42);
    const n = 784 * 256 + 256 * 256 + 256 * 10;
    const x = Float64Array.from({ length: n }, () => next() * 10 ** Math.round(8 * next()));
    const y = Float64Array.from({ length: n }, () => next() * 10 ** Math.round(8 * next()));
    const expected = Float64Array.from(y, (v, i) => v + x[i]);
    kernel.axpy(n, 1, x, y);
    expect(sameBits(y, expected)).toBe(true);
  });

  test.prop([fc.array(fc.tuple(fc.float({ noNaN: true }), fc.float({ noNaN: true })), { maxLength: 1200, size: 'max' }), fc.integer({ min: 0, max: 3 })], { numRuns: 200 })(
    'in float32 with alpha = 1 gives exactly the bits of the float32 sum x[i] + y[i] (saxpy)',
    (pairs, offset) => {
      const x = new Float32Array(offset + pairs.length).subarray(offset), y = new Float32Array(offset + pairs.length).subarray(offset);
      pairs.forEach(([a, b], i) => { x[i] = a; y[i] = b; });
      const expected = Float32Array.from(pairs, ([a, b]) => Math.fround(a + b));
      kernel.axpy(pairs.length, 1, x, y);
      expect(sameBits(Float64Array.from(y), Float64Array.from(expected))).toBe(true);
    },
  );

  it('adds only the first n values', () => {
    const y = new Float64Array(300).fill(1);
    kernel.axpy(299, 1, new Float64Array(300).fill(2), y);
    expect(y[298]).toBe(3);
    expect(y[299]).toBe(1);
  });

  it('with alpha = 0 leaves y as it is and ignores NaN in x, as BLAS does', () => {
    const y = Float64Array.from({ length: 400 }, (_, i) => i);
    kernel.axpy(400, 0, new Float64Array(400).fill(Number.NaN), y);
    expect(y.every((v, i) => v === i)).toBe(true);
  });

  it('with another alpha agrees with alpha·x + y to one rounding', () => {
    const next = uniformStream(7);
    for (const n of [5, 1000]) {
      const x = Float64Array.from({ length: n }, next), y = Float64Array.from({ length: n }, next);
      const expected = Float64Array.from(y, (v, i) => -1.75 * x[i] + v);
      kernel.axpy(n, -1.75, x, y);
      for (let i = 0; i < n; i++) expect(Math.abs(y[i] - expected[i])).toBeLessThanOrEqual(4 * Number.EPSILON * (1.75 * Math.abs(x[i]) + Math.abs(expected[i])));
    }
  });

  describe('rejects a wrong call with an exception instead of crashing', () => {
    const buffer = new Float64Array(20);
    const wrongCalls: [string, ErrorConstructor, RegExp, (y: Float64Array) => void][] = [
      ['x one value short', RangeError, /x holds 9 values, n = 10 needs 10/, (y) => kernel.axpy(10, 1, new Float64Array(9), y)],
      ['y one value short', RangeError, /y holds 10 values, n = 11 needs 11/, (y) => kernel.axpy(11, 1, new Float64Array(11), y)],
      ['a negative n', RangeError, /n must be a non-negative integer, got -1/, (y) => kernel.axpy(-1, 1, new Float64Array(10), y)],
      ['a fractional n', RangeError, /n must be a non-negative integer, got 2.5/, (y) => kernel.axpy(2.5, 1, new Float64Array(10), y)],
      ['a NaN n', RangeError, /n must be a non-negative integer, got NaN/, (y) => kernel.axpy(Number.NaN, 1, new Float64Array(10), y)],
      ['x overlapping y', RangeError, /overlap/, () => kernel.axpy(10, 1, buffer.subarray(0, 10), buffer.subarray(5, 15))],
      ['a Float32Array y with a Float64Array x', TypeError, /x is a Float64Array but y a Float32Array; pass one type/, () => kernel.axpy(10, 1, new Float64Array(10), new Float32Array(10) as unknown as Float64Array)],
      ['float32 views overlapping', RangeError, /overlap/, () => { const f = new Float32Array(20); kernel.axpy(10, 1, f.subarray(0, 10), f.subarray(9, 19)); }],
      ...(kernel === jsGemm ? [] : [
        ['a plain array for x', TypeError, /x must be a Float64Array or Float32Array, got Array/, (y: Float64Array) => kernel.axpy(10, 1, new Array(10).fill(0) as unknown as Float64Array, y)],
        ['a string for alpha', TypeError, /alpha must be a number, got string/, (y: Float64Array) => kernel.axpy(10, '1' as unknown as number, new Float64Array(10), y)],
      ] as [string, ErrorConstructor, RegExp, (y: Float64Array) => void][]),
    ];

    it.each(wrongCalls)('%s', (_label, errorClass, message, call) => {
      const y = Float64Array.from({ length: 10 }, (_, i) => i);
      const thrown = thrownBy(() => call(y));
      expect(thrown).toBeInstanceOf(errorClass);
      expect((thrown as Error).message).toMatch(message);
      expect(Array.from(y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // rejected before anything was written
    });

    it('accepts x and y as the very same view (y ← 2y)', () => {
      const y = Float64Array.from({ length: 300 }, (_, i) => i);
      kernel.axpy(300, 1, y, y);
      expect(y[299]).toBe(598);
    });
  });
});
