import type { Floats } from '../kernel/dtype.js';
import { elementwise } from '../kernel/elementwise.js';
import type { Params } from './layout.js';

/**
 * The update of one mini-batch, applied to the reduced sums (m = the mini-batch's real length):
 * - the seed's update_mini_batch: w ← w − (η/m)·Σ nabla_w, b ← b − (η/m)·Σ nabla_b;
 * - with L2 regularisation (network2): w ← (1 − η·(λ/n))·w − (η/m)·Σ nabla_w, n the training-set size; biases are
 *   not decayed. Written exactly in network2's order of operations; with λ = 0 the factor is 1 and 1·w is w, so the
 *   seed's bits are unchanged.
 * The parameters are float64 whatever the compute type: float32 sums (--dtype float32) are applied to them exactly.
 * `rounded` (a float32 job's compute copy): also receives each new parameter rounded to nearest, in the same pass.
 *
 * Returns the update's fingerprint, a float64 sum of the new parameters that two replicas updated from the same bits
 * agree on: the weights in four interleaved partial sums (weight i into sum i mod 4, the last length mod 4 into sum
 * 0), the biases in a fifth, added as ((s0 + s1) + (s2 + s3)) + sb. Four sums instead of one running sum: a single
 * chain of dependent additions was the loop's bottleneck (0.26 → 0.18 ms for the 269,322 parameters of
 * [784,256,256,10]). Returns null when the sum is not finite: a parameter came out infinite or NaN (training
 * diverged; the caller must not use them), or — equally fatal — they sum past 1.8e308.
 * `hashLanes` (param-hash.ts): the new parameters are also mixed into these lanes, in the same pass, so that
 * hashOfLanes gives paramHash(params) without reading them again.
 */
export function sgdStep(
  params: Params, nablaSums: Params<Floats>, eta: number, m: number, lambda = 0, n = 1, rounded?: Params<Float32Array>, hashLanes?: Int32Array,
): number | null {
  const rate = eta / m;
  const decay = 1 - eta * (lambda / n);
  const { weights, biases } = params;
  const sum = elementwise.sgdStep(weights, biases, nablaSums.weights, nablaSums.biases, rounded?.weights ?? null, rounded?.biases ?? null, rate, decay, hashLanes ?? null);
  // A NaN or ±∞ parameter makes the sum NaN or ±∞ (∞ − ∞ is NaN), so a finite sum means finite parameters.
  return Number.isFinite(sum) ? sum : null;
}
