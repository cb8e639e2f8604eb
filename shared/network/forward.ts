import type { Floats } from '../kernel/dtype.js';
import type { Gemm } from '../kernel/gemm.js';
import { exp } from './exp.js';
import type { LayerViews, Workspace } from './workspace.js';

/** σ(z) = 1 / (1 + e^(−z)), as in the seed (e^x from exp.ts: the same bits everywhere, twice Math.exp's speed). */
export function sigmoid(z: number): number {
  return 1 / (1 + exp(-z));
}

/**
 * Feedforward for the first `rows` input rows of ws.activations[0]: for each layer, a^l = σ(a^(l−1) · wᵀ + b),
 * the seed's `z = np.dot(w, a) + b` for every sample at once.
 */
export function feedforward<F extends Floats>(gemm: Gemm, params: LayerViews<F>, ws: Workspace<F>, rows: number): void {
  const { layers } = ws.layout;
  for (let l = 0; l < layers.length; l++) {
    const { nIn, nOut } = layers[l];
    const input = ws.activations[l];
    const output = ws.activations[l + 1];
    gemm.gemm(false, true, rows, nOut, nIn, 1, input, nIn, params.w[l], nIn, 0, output, nOut);
    const b = params.b[l];
    for (let i = 0; i < rows; i++) {
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) output[row + j] = sigmoid(output[row + j] + b[j]);
    }
  }
}

/** Index of the largest of `n` values starting at `offset` (first one on ties, like numpy's argmax). */
export function argmax(values: Floats, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}
