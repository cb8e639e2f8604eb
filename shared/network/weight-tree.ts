import type { Floats } from '../kernel/dtype.js';
import type { Gemm } from '../kernel/gemm.js';

/**
 * BP4 for a block of chunks, summed along the fixed tree in cache-sized bands of rows.
 *
 * A chunk's ∇w of layer l is δᵀ·a^(l−1) over its rows (BP4), an [nOut × nIn] matrix; the fixed tree then adds the
 * chunks' matrices pairwise (shared/reduction/tree.ts). Done matrix by matrix, every chunk writes a whole matrix
 * (800 KB in float32 for [784,256] weights) and every addition reads two and writes one, all out of cache. Row j of
 * a product depends only on column j of δ, so the tree can run over a band of rows at a time instead: each chunk's
 * product for the band, the band's additions, the band's sum stored once, while all of it stays in the core's cache.
 * The sums are the same additions in the same order; whether the GEMM gives a band's rows the bits of the whole
 * product is the kernel's business, which worker/plan-probe.ts checks before a worker uses this.
 */

/**
 * The band size workers use: 32 Ki values, 128 KB in float32 and 256 KB in float64, inside a core's L2 cache with
 * the scratch of the tree's levels. [784,256,256,10], batch 128 in 8 chunks, OpenBLAS on the Xeon: BP4 and its tree
 * took 1.1–1.2 ms a step in float32 banded against 1.5–1.7 matrix by matrix (one K = 128 product, no tree: 0.72–0.8).
 */
export const BAND_VALUES = 32 * 1024;

/** Rows of a layer's ∇w per band: about `bandValues` values; from 16 rows on a multiple of 16 (a BLAS's tile edge). */
export function bandRows(nIn: number, nOut: number, bandValues: number): number {
  const rows = Math.max(1, Math.floor(bandValues / nIn));
  return Math.min(nOut, rows < 16 ? rows : rows - (rows % 16));
}

/** Values of scratch one level of the tree needs for the bands of layers with these shapes. */
export function bandCapacity(layers: readonly { nIn: number; nOut: number }[], bandValues: number): number {
  return Math.max(...layers.map(({ nIn, nOut }) => bandRows(nIn, nOut, bandValues) * nIn));
}

/** How to sum the ∇w of chunks that make up one aligned tree node, and where to. */
export interface WeightTree<F extends Floats> {
  /** The node's level: it covers up to 2^level chunks. */
  readonly level: number;
  /** Whether a chunk's product may be added onto its left sibling's by the GEMM (beta = 1; the tree's first addition). */
  readonly pairs: boolean;
  /** Band size in values (bandRows). */
  readonly bandValues: number;
  /** One band of scratch (bandCapacity values) per level below the node's. */
  readonly scratch: readonly F[];
  /** Where the node's sums go: each layer's [nOut × nIn] matrix. */
  readonly to: readonly F[];
}

/**
 * tree.to[l] ← the node's Σ ∇w of layer l: BP4 (∂C/∂w_jk = a_k·δ_j, summed over each chunk's rows) per chunk, the
 * chunks' sums added along the fixed tree (left + right, a right child without chunks skipped), band by band.
 * Chunk i is rows [bounds[i], bounds[i+1]) of `delta`, δ^l [rows × nOut], and of `aPrev`, a^(l−1) [rows × nIn].
 */
export function sumWeightsAlongTree<F extends Floats>(
  gemm: Gemm, tree: WeightTree<F>, bounds: readonly number[], l: number, delta: F, aPrev: F, nIn: number, nOut: number,
): void {
  const { level, pairs, bandValues, scratch } = tree;
  const count = bounds.length - 1;
  const rowsPerBand = bandRows(nIn, nOut, bandValues);
  let j0 = 0, m = 0, band = 0;
  // Chunk c's product for rows [j0, j0 + m) of ∇w: δ's columns j0… over the chunk's rows (A = δᵀ, lda = nOut), times a.
  const product = (c: number, beta: number, into: F): void => {
    const first = bounds[c], end = bounds[c + 1];
    gemm.gemm(true, false, m, nIn, end - first, 1, delta.subarray(first * nOut + j0, end * nOut) as F, nOut,
      aPrev.subarray(first * nIn, end * nIn) as F, nIn, beta, into, nIn);
  };
  // The band of node (lvl, chunks from lo) into `into`; its right children use scratch[lvl − 1], scratch[lvl − 2], …
  const node = (lo: number, lvl: number, into: F): void => {
    if (lvl === 0) return product(lo, 0, into);
    const mid = lo + 2 ** (lvl - 1);
    if (mid >= count) return node(lo, lvl - 1, into);
    if (lvl === 1 && pairs) {
      product(lo, 0, into);
      return product(mid, 1, into);
    }
    node(lo, lvl - 1, into);
    const right = scratch[lvl - 1].subarray(0, band) as F;
    node(mid, lvl - 1, right);
    gemm.axpy(band, 1, right, into);
  };
  for (; j0 < nOut; j0 += rowsPerBand) {
    m = Math.min(rowsPerBand, nOut - j0);
    band = m * nIn;
    node(0, level, tree.to[l].subarray(j0 * nIn, j0 * nIn + band) as F);
  }
}
