import type { Floats } from '../kernel/dtype.js';
import { elementwise } from '../kernel/elementwise.js';
import type { Gemm } from '../kernel/gemm.js';
import { type CostName, outputErrorAndCost } from './cost.js';
import { feedforward } from './forward.js';
import { sumWeightsAlongTree, type WeightTree } from './weight-tree.js';
import type { LayerViews, Workspace } from './workspace.js';

/**
 * Batched backprop over the first `rows` samples in the workspace (inputs in activations[0], targets in ws.targets).
 * Overwrites `nabla` with the SUMS over those samples of the seed's per-sample nabla_b and nabla_w, and returns
 * the summed cost (quadratic Σ ½‖a^L − y‖², or cross-entropy). No buffer is allocated: they all come from `ws` and `nabla`.
 * All arrays are of one type; in float32 every stored value rounds to float32 (the cost sum stays a float64).
 */
export function backpropSums<F extends Floats>(
  gemm: Gemm, params: LayerViews<F>, ws: Workspace<F>, rows: number, nabla: LayerViews<F>, cost: CostName,
): number {
  const costs = [0];
  backpropChunkSums(gemm, params, ws, { bounds: [0, rows], passes: [0, rows], sums: [nabla], weightsTo: [nabla], addWeights: [false], costs }, cost);
  return costs[0];
}

/**
 * Where backpropChunkSums puts the sums of each chunk of the rows: chunk i is rows [bounds[i], bounds[i+1]). The
 * forward products and BP2 run in passes over rows [passes[i], passes[i+1]), whose bounds are chunk bounds.
 * Its cost goes to costs[i], its ∇b to sums[i].b, and its ∇w to weightsTo[i].w: overwriting it, or, when
 * addWeights[i], added onto what is there by the GEMM itself (beta = 1). Or else, when `weightTree` is given (the
 * chunks then make up one aligned tree node), no chunk's ∇w is stored: their sum along the tree goes to
 * weightTree.to (weight-tree.ts), and weightsTo and addWeights are not read.
 */
export interface ChunkSums<F extends Floats> {
  readonly bounds: readonly number[];
  readonly passes: readonly number[];
  readonly sums: readonly LayerViews<F>[];
  readonly weightsTo: readonly LayerViews<F>[];
  readonly addWeights: readonly boolean[];
  readonly costs: number[];
  readonly weightTree?: WeightTree<F>;
}

/**
 * backpropSums for several chunks of the rows at once: the forward pass and BP2 run over several chunks' rows in one
 * GEMM each (a pass), while every per-chunk sum (cost, BP3, BP4) covers its own rows only. Whether this gives the
 * bits of one backpropSums per chunk depends on the GEMM (worker/plan-probe.ts probes it); the maths is the same.
 */
export function backpropChunkSums<F extends Floats>(
  gemm: Gemm, params: LayerViews<F>, ws: Workspace<F>, chunks: ChunkSums<F>, cost: CostName,
): void {
  const { layers } = ws.layout;
  const L = layers.length;
  const { bounds, passes, sums, weightsTo, addWeights, costs, weightTree } = chunks;
  const count = bounds.length - 1;
  const rows = bounds[count];
  feedforward(gemm, params, ws, rows, passes);

  // BP1: δ^L = ∇_a C ⊙ σ'(z^L) — (a − y) ⊙ a(1 − a) for the quadratic cost, a − y for cross-entropy.
  const nLast = layers[L - 1].nOut;
  for (let c = 0; c < count; c++) {
    const from = bounds[c] * nLast, to = bounds[c + 1] * nLast;
    costs[c] = outputErrorAndCost(cost, ws.activations[L].subarray(from, to), ws.targets.subarray(from, to), to - from, ws.deltas[L].subarray(from, to));
  }

  for (let l = L - 1; l >= 0; l--) {
    const { nIn, nOut } = layers[l];
    const delta = ws.deltas[l + 1];
    const aPrev = ws.activations[l];
    for (let c = 0; c < count; c++) {
      const first = bounds[c], end = bounds[c + 1];
      // BP3: ∂C/∂b^l_j = δ^l_j, summed over the chunk's samples in order.
      elementwise.sumRows(sums[c].b[l], delta, first, end, nOut);
      if (weightTree) continue;
      // BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j, summed over the chunk's samples: nabla_w = δᵀ · a^(l−1).
      const deltaRows = delta.subarray(first * nOut, end * nOut), aRows = aPrev.subarray(first * nIn, end * nIn);
      gemm.gemm(true, false, nOut, nIn, end - first, 1, deltaRows, nOut, aRows, nIn, addWeights[c] ? 1 : 0, weightsTo[c].w[l], nIn);
    }
    if (weightTree) sumWeightsAlongTree(gemm, weightTree, bounds, l, delta, aPrev, nIn, nOut); // BP4 of every chunk, summed
    if (l === 0) break;
    // BP2: δ^(l−1) = (δ^l · w^l) ⊙ σ'(z^(l−1)), i.e. the seed's (wᵀ δ) * sigmoid_prime(z) for every row.
    const deltaPrev = ws.deltas[l];
    for (let p = 0; p + 1 < passes.length; p++) {
      const first = passes[p], end = passes[p + 1];
      gemm.gemm(false, false, end - first, nIn, nOut, 1, delta.subarray(first * nOut), nOut, params.w[l], nIn, 0, deltaPrev.subarray(first * nIn), nIn);
    }
    elementwise.sigmoidPrimeTimes(deltaPrev, aPrev, rows * nIn);
  }
}
