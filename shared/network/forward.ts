import type { Floats } from '../kernel/dtype.js';
import { elementwise } from '../kernel/elementwise.js';
import type { Gemm } from '../kernel/gemm.js';
import type { LayerViews, Workspace } from './workspace.js';

/**
 * Feedforward for the first `rows` input rows of ws.activations[0]: for each layer, a^l = σ(a^(l−1) · wᵀ + b),
 * the seed's `z = np.dot(w, a) + b` for every sample at once (σ with exp.ts's e^x: the same bits on every engine and CPU).
 * The products run in passes over rows [passes[i], passes[i+1]) (by default one over all rows).
 */
export function feedforward<F extends Floats>(gemm: Gemm, params: LayerViews<F>, ws: Workspace<F>, rows: number, passes: readonly number[] = [0, rows]): void {
  const { layers } = ws.layout;
  for (let l = 0; l < layers.length; l++) {
    const { nIn, nOut } = layers[l];
    const input = ws.activations[l];
    const output = ws.activations[l + 1];
    for (let p = 0; p + 1 < passes.length; p++) {
      const first = passes[p], end = passes[p + 1];
      gemm.gemm(false, true, end - first, nOut, nIn, 1, input.subarray(first * nIn), nIn, params.w[l], nIn, 0, output.subarray(first * nOut), nOut);
    }
    elementwise.sigmoidBias(output, params.b[l], rows, nOut);
  }
}

/** Index of the largest of `n` values starting at `offset` (first one on ties, like numpy's argmax). */
export function argmax(values: Floats, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}
