import type { ParamLayout, Params } from './layout.js';
import { zeroParams } from './layout.js';
import { Rng } from '../rng.js';

/**
 * The seed's initialisation: every bias and weight drawn from a Gaussian with mean 0 and variance 1.
 * Order, as in the seed's constructor: all biases layer by layer, then all weights layer by layer (row-major).
 */
export function initParams(layout: ParamLayout, seed: number): Params {
  const rng = new Rng(seed);
  const params = zeroParams(layout);
  for (let i = 0; i < params.biases.length; i++) params.biases[i] = rng.nextGaussian();
  for (let i = 0; i < params.weights.length; i++) params.weights[i] = rng.nextGaussian();
  return params;
}
