import type { Params } from './layout.js';

/**
 * The seed's update_mini_batch rule, applied once per mini-batch to the reduced sums:
 * w ← w − (η/m)·Σ nabla_w and b ← b − (η/m)·Σ nabla_b, with m the mini-batch's real length.
 */
export function sgdStep(params: Params, nablaSums: Params, eta: number, m: number): void {
  const rate = eta / m;
  const { weights, biases } = params;
  const nablaW = nablaSums.weights, nablaB = nablaSums.biases;
  for (let i = 0; i < weights.length; i++) weights[i] -= rate * nablaW[i];
  for (let i = 0; i < biases.length; i++) biases[i] -= rate * nablaB[i];
}
