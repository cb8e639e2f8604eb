import { newFloats, sameBits, type Dtype, type Floats } from '../shared/kernel/dtype.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import type { ParamLayout } from '../shared/network/layout.js';
import { BAND_VALUES, bandRows } from '../shared/network/weight-tree.js';
import { chunkOffset } from '../shared/reduction/tree.js';
import { Rng } from '../shared/rng.js';
import type { ComputePlan } from './compute.js';

/**
 * Which shortcuts to the canonical bits (compute.ts, ComputePlan) this kernel allows for mini-batches of `batchSize`
 * in `chunks`, found by running the GEMMs concerned both ways on random operands of the job's shapes and comparing
 * the products bit for bit. The products, not the gradients they lead to: a sigmoid absorbs a last-bit difference
 * of z more often than not, so a whole backprop pass on random data can agree by luck where real data would not.
 * - groupLevel ℓ: for every aligned block of up to 2^ℓ chunks (each distinct pattern of chunk sizes once) and every
 *   layer, the forward product a·wᵀ and BP2's δ·w over the block's rows (read in place after other rows) must equal,
 *   row for row, the same products per chunk, and BP4's δᵀ·a of a chunk read in place inside the block must equal
 *   it read from a buffer of its own;
 * - accumulatePairs: for every pair of sibling chunks and layer, adding the second chunk's δᵀ·a onto the first's by
 *   the GEMM (beta = 1) must equal computing both and adding them (the tree's first addition);
 * - bandValues (only with groupLevel > 0): for every chunk size and layer, BP4's δᵀ·a computed band by band
 *   (weight-tree.ts: rows [j0, j0 + m) from δ's columns j0…, read in place after another chunk's rows) must equal
 *   the whole product's rows, with beta 0 and, where pairs are accumulated, beta 1.
 * Milliseconds on the nets we run (a few GEMMs of a mini-batch's size per layer and level).
 */
export function probePlan(gemm: Gemm, layout: ParamLayout, dtype: Dtype, batchSize: number, chunks: number): ComputePlan {
  // Both signs and magnitudes from 1e-3 to 1e3: summed in another order, such values round differently.
  const rng = new Rng(0x5eed);
  const values = Float64Array.from({ length: 4093 }, () => (rng.nextFloat() < 0.5 ? -1 : 1) * (1 + rng.nextFloat()) * 10 ** (rng.nextInt(7) - 3));
  let next = 0;
  const random = (n: number): Floats => {
    const x = newFloats(dtype, n);
    for (let i = 0; i < n; i++, next += 7) x[i] = values[next % values.length];
    return x;
  };
  const rowsOf = (c: number): number => chunkOffset(batchSize, chunks, c + 1) - chunkOffset(batchSize, chunks, c);
  const product = (transA: boolean, transB: boolean, m: number, n: number, k: number, a: Floats, b: Floats, beta = 0, c = newFloats(dtype, m * n)): Floats => {
    gemm.gemm(transA, transB, m, n, k, 1, a, transA ? m : k, b, transB ? k : n, beta, c, n);
    return c;
  };

  /** The block of chunks [first, first + count): one pass over its rows gives each chunk's own products. */
  const blockAgrees = (first: number, count: number): boolean => {
    const sizes = Array.from({ length: count }, (_, i) => rowsOf(first + i));
    const total = sizes.reduce((s, r) => s + r, 0);
    return layout.layers.every(({ nIn, nOut }) => {
      // In place after another chunk's rows, as a pass reads them from a worker's workspace.
      const pad = rowsOf(0);
      const a = random((pad + total) * nIn).subarray(pad * nIn), w = random(nOut * nIn), delta = random((pad + total) * nOut).subarray(pad * nOut);
      const forward = product(false, true, total, nOut, nIn, a, w);
      const bp2 = product(false, false, total, nIn, nOut, delta, w);
      let row = 0;
      return sizes.every((r) => {
        const aOwn = a.slice(row * nIn, (row + r) * nIn), deltaOwn = delta.slice(row * nOut, (row + r) * nOut);
        const aInPlace = a.subarray(row * nIn, (row + r) * nIn), deltaInPlace = delta.subarray(row * nOut, (row + r) * nOut);
        const agrees = sameBits(forward.subarray(row * nOut, (row + r) * nOut), product(false, true, r, nOut, nIn, aOwn, w)) &&
          sameBits(bp2.subarray(row * nIn, (row + r) * nIn), product(false, false, r, nIn, nOut, deltaOwn, w)) &&
          sameBits(product(true, false, nOut, nIn, r, deltaInPlace, aInPlace), product(true, false, nOut, nIn, r, deltaOwn, aOwn));
        row += r;
        return agrees;
      });
    });
  };

  const pairAgrees = (left: number, right: number): boolean => layout.layers.every(({ nIn, nOut }) => {
    const d0 = random(left * nOut), a0 = random(left * nIn), d1 = random(right * nOut), a1 = random(right * nIn);
    const added = product(true, false, nOut, nIn, left, d0, a0);
    const accumulated = added.slice();
    product(true, false, nOut, nIn, right, d1, a1, 1, accumulated);
    gemm.axpy(added.length, 1, product(true, false, nOut, nIn, right, d1, a1), added);
    return sameBits(accumulated, added);
  });

  /** Every aligned block of 2^level chunks passes, each distinct pattern of chunk sizes tried once. */
  const levelAgrees = (level: number, check: (first: number, count: number) => boolean): boolean => {
    const size = 2 ** level, tried = new Set<string>();
    for (let first = 0; first + size <= chunks; first += size) {
      const pattern = Array.from({ length: size }, (_, i) => rowsOf(first + i)).join(',');
      if (tried.has(pattern)) continue;
      tried.add(pattern);
      if (!check(first, size)) return false;
    }
    return true;
  };

  /** A chunk of `rows` rows, placed after `rows` others as in a block: its bands give the whole product's rows. */
  const bandsAgree = (rows: number, betas: readonly number[]): boolean => layout.layers.every(({ nIn, nOut }) => {
    const delta = random(2 * rows * nOut).subarray(rows * nOut), a = random(2 * rows * nIn).subarray(rows * nIn);
    const band = bandRows(nIn, nOut, BAND_VALUES);
    return betas.every((beta) => {
      const start = random(nOut * nIn);
      const whole = product(true, false, nOut, nIn, rows, delta, a, beta, start.slice());
      for (let j0 = 0; j0 < nOut; j0 += band) {
        const m = Math.min(band, nOut - j0);
        const banded = start.slice(j0 * nIn, (j0 + m) * nIn);
        gemm.gemm(true, false, m, nIn, rows, 1, delta.subarray(j0), nOut, a, nIn, beta, banded, nIn);
        if (!sameBits(banded, whole.subarray(j0 * nIn, (j0 + m) * nIn))) return false;
      }
      return true;
    });
  });

  const accumulatePairs = chunks > 1 && levelAgrees(1, (first) => pairAgrees(rowsOf(first), rowsOf(first + 1)));
  let groupLevel = 0;
  while (2 ** (groupLevel + 1) <= chunks && levelAgrees(groupLevel + 1, blockAgrees)) groupLevel++;
  // Bands pay where a block sums several chunks; a block of one chunk has no tree to keep in cache.
  const chunkSizes = [...new Set(Array.from({ length: chunks }, (_, c) => rowsOf(c)))];
  const banded = groupLevel > 0 && chunkSizes.every((rows) => bandsAgree(rows, accumulatePairs ? [0, 1] : [0]));
  return { groupLevel, accumulatePairs, bandValues: banded ? BAND_VALUES : 0 };
}
