import type { Floats } from '../kernel/dtype.js';
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
 */
export function sgdStep(
  params: Params, nablaSums: Params<Floats>, eta: number, m: number, lambda = 0, n = 1, rounded?: Params<Float32Array>,
): number | null {
  const rate = eta / m;
  const decay = 1 - eta * (lambda / n);
  const { weights, biases } = params;
  const nablaW = nablaSums.weights, nablaB = nablaSums.biases;
  // Without a float32 copy the new value is stored twice into the same place: cheaper than a second loop.
  const outW = rounded?.weights ?? weights, outB = rounded?.biases ?? biases;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, sb = 0;
  const whole = weights.length - (weights.length % 4);
  let i = 0;
  for (; i < whole; i += 4) {
    const w0 = decay * weights[i] - rate * nablaW[i];
    const w1 = decay * weights[i + 1] - rate * nablaW[i + 1];
    const w2 = decay * weights[i + 2] - rate * nablaW[i + 2];
    const w3 = decay * weights[i + 3] - rate * nablaW[i + 3];
    weights[i] = w0; weights[i + 1] = w1; weights[i + 2] = w2; weights[i + 3] = w3;
    outW[i] = w0; outW[i + 1] = w1; outW[i + 2] = w2; outW[i + 3] = w3;
    s0 += w0; s1 += w1; s2 += w2; s3 += w3;
  }
  for (; i < weights.length; i++) {
    const w = decay * weights[i] - rate * nablaW[i];
    weights[i] = w;
    outW[i] = w;
    s0 += w;
  }
  for (let j = 0; j < biases.length; j++) {
    const b = biases[j] - rate * nablaB[j];
    biases[j] = b;
    outB[j] = b;
    sb += b;
  }
  // A NaN or ±∞ parameter makes the sum NaN or ±∞ (∞ − ∞ is NaN), so a finite sum means finite parameters.
  const sum = ((s0 + s1) + (s2 + s3)) + sb;
  return Number.isFinite(sum) ? sum : null;
}
