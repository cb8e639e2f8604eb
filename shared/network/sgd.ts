import type { Floats } from '../kernel/dtype.js';
import type { Params } from './layout.js';

/**
 * The update of one mini-batch, applied to the reduced sums (m = the mini-batch's real length):
 * - the seed's update_mini_batch: w ← w − (η/m)·Σ nabla_w, b ← b − (η/m)·Σ nabla_b;
 * - with L2 regularisation (network2): w ← (1 − η·(λ/n))·w − (η/m)·Σ nabla_w, n the training-set size; biases are
 *   not decayed. Written exactly in network2's order of operations; with λ = 0 the factor is 1 and 1·w is w, so the
 *   seed's bits are unchanged.
 * The parameters are float64 whatever the compute type: float32 sums (--dtype float32) are applied to them exactly.
 * Returns null when a parameter came out infinite or NaN (training diverged; the caller must not use them), else the
 * float64 sum of the new parameters in index order, weights then biases: a fingerprint two replicas updated from the
 * same bits agree on, computed in the same pass.
 */
export function sgdStep(params: Params, nablaSums: Params<Floats>, eta: number, m: number, lambda = 0, n = 1): number | null {
  const rate = eta / m;
  const decay = 1 - eta * (lambda / n);
  const { weights, biases } = params;
  const nablaW = nablaSums.weights, nablaB = nablaSums.biases;
  // x − x is 0 for every finite x and NaN for ±∞ and NaN, so the sum is 0 exactly when all are finite.
  let check = 0, sum = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = decay * weights[i] - rate * nablaW[i];
    weights[i] = w;
    check += w - w;
    sum += w;
  }
  for (let i = 0; i < biases.length; i++) {
    const b = biases[i] - rate * nablaB[i];
    biases[i] = b;
    check += b - b;
    sum += b;
  }
  return check === 0 ? sum : null;
}
