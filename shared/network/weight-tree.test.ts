import { describe, expect, test } from 'vitest';
import { sameBits } from '../kernel/dtype.js';
import { jsGemm } from '../kernel/js-gemm.js';
import { Rng } from '../rng.js';
import { bandCapacity, bandRows, sumWeightsAlongTree } from './weight-tree.js';

describe('bandRows', () => {
  test('about bandValues values a band, a multiple of 16 rows from 16 on, never more rows than the matrix, at least one', () => {
    expect(bandRows(784, 256, 32 * 1024)).toBe(32); // 41 rows fit; cut to a multiple of 16
    expect(bandRows(256, 256, 32 * 1024)).toBe(128);
    expect(bandRows(256, 10, 32 * 1024)).toBe(10);
    expect(bandRows(6, 5, 13)).toBe(2);
    expect(bandRows(6, 5, 1)).toBe(1);
    expect(bandCapacity([{ nIn: 784, nOut: 256 }, { nIn: 256, nOut: 256 }, { nIn: 256, nOut: 10 }], 32 * 1024)).toBe(32768);
  });
});

describe('sumWeightsAlongTree', () => {
  const nIn = 7, nOut = 5;
  const rng = new Rng(3);
  const random = (n: number): Float64Array => Float64Array.from({ length: n }, () => (rng.nextFloat() - 0.5) * 10 ** (rng.nextInt(5) - 2));

  /** The tree's definition: each chunk's δᵀ·a as a whole matrix, then left + right up the tree (an empty right child skipped). */
  function treeOfWholeProducts(bounds: number[], level: number, delta: Float64Array, a: Float64Array): Float64Array {
    const count = bounds.length - 1;
    const node = (lo: number, lvl: number): Float64Array => {
      if (lvl === 0) {
        const c = new Float64Array(nOut * nIn);
        jsGemm.gemm(true, false, nOut, nIn, bounds[lo + 1] - bounds[lo], 1, delta.subarray(bounds[lo] * nOut), nOut, a.subarray(bounds[lo] * nIn), nIn, 0, c, nIn);
        return c;
      }
      const left = node(lo, lvl - 1);
      const mid = lo + 2 ** (lvl - 1);
      if (mid < count) {
        const right = node(mid, lvl - 1);
        for (let i = 0; i < left.length; i++) left[i] += right[i];
      }
      return left;
    };
    return node(0, level);
  }

  test.each([
    { level: 0, bounds: [0, 3] },
    { level: 2, bounds: [0, 2, 5, 6, 9] },
    { level: 2, bounds: [0, 4, 5, 9] }, // three chunks: the right child of the right half is empty
    { level: 3, bounds: [0, 1, 3, 4, 6, 7, 9, 10, 12] },
    { level: 3, bounds: [0, 2, 4, 6, 8, 10] },
  ])('level $level over chunk bounds $bounds, in bands of 1 to all rows: the bits of the tree of whole products', ({ level, bounds }) => {
    const rows = bounds[bounds.length - 1];
    const delta = random(rows * nOut), a = random(rows * nIn);
    const expected = treeOfWholeProducts(bounds, level, delta, a);
    for (const bandValues of [1, 7, 14, 20, 35, 1000]) {
      const out = new Float64Array(nOut * nIn).fill(Number.NaN); // every value must be written
      const scratch = Array.from({ length: level }, () => new Float64Array(bandCapacity([{ nIn, nOut }], bandValues)).fill(Number.NaN));
      sumWeightsAlongTree(jsGemm, { level, pairs: false, bandValues, scratch, to: [out] }, bounds, 0, delta, a, nIn, nOut);
      expect(sameBits(out, expected)).toBe(true);
    }
  });
});
