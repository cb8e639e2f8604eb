import type { Floats } from '../kernel/dtype.js';
import type { Gemm } from '../kernel/gemm.js';
import { type CostName, outputErrorAndCost } from './cost.js';
import { feedforward } from './forward.js';
import type { LayerViews, Workspace } from './workspace.js';

/**
 * Batched backprop over the first `rows` samples in the workspace (inputs in activations[0], targets in ws.targets).
 * Overwrites `nabla` with the SUMS over those samples of the seed's per-sample nabla_b and nabla_w, and returns
 * the summed cost (quadratic Σ ½‖a^L − y‖², or cross-entropy). No allocation: every buffer comes from `ws` and `nabla`.
 * All arrays are of one type; in float32 every stored value rounds to float32 (the cost sum stays a float64).
 */
export function backpropSums<F extends Floats>(
  gemm: Gemm, params: LayerViews<F>, ws: Workspace<F>, rows: number, nabla: LayerViews<F>, cost: CostName,
): number {
  const { layers } = ws.layout;
  const L = layers.length;
  feedforward(gemm, params, ws, rows);

  // BP1: δ^L = ∇_a C ⊙ σ'(z^L) — (a − y) ⊙ a(1 − a) for the quadratic cost, a − y for cross-entropy.
  const costTotal = outputErrorAndCost(cost, ws.activations[L], ws.targets, rows * layers[L - 1].nOut, ws.deltas[L]);

  for (let l = L - 1; l >= 0; l--) {
    const { nIn, nOut } = layers[l];
    const delta = ws.deltas[l + 1];
    const aPrev = ws.activations[l];
    // BP3: ∂C/∂b^l_j = δ^l_j, summed over the samples in order.
    const nablaB = nabla.b[l];
    nablaB.fill(0);
    for (let i = 0; i < rows; i++) {
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) nablaB[j] += delta[row + j];
    }
    // BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j, summed over samples: nabla_w = δᵀ · a^(l−1).
    gemm.gemm(true, false, nOut, nIn, rows, 1, delta, nOut, aPrev, nIn, 0, nabla.w[l], nIn);
    if (l === 0) break;
    // BP2: δ^(l−1) = (δ^l · w^l) ⊙ σ'(z^(l−1)), i.e. the seed's (wᵀ δ) * sigmoid_prime(z) for every row.
    const deltaPrev = ws.deltas[l];
    gemm.gemm(false, false, rows, nIn, nOut, 1, delta, nOut, params.w[l], nIn, 0, deltaPrev, nIn);
    for (let i = 0, n = rows * nIn; i < n; i++) {
      const a = aPrev[i];
      deltaPrev[i] *= a * (1 - a);
    }
  }
  return costTotal;
}
