import type { ParamLayout, Params } from './layout.js';
import { zeroParams } from './layout.js';
import { Rng } from '../rng.js';

/**
 * Initial weights: `standard` is the seed's (every weight N(0, 1)); `scaled` is network2's
 * default_weight_initializer (weights N(0, 1/n_in), so a neuron's z starts near 0 and does not saturate).
 * Biases are N(0, 1) in both.
 */
export const INIT_SCHEMES = ['standard', 'scaled'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

/**
 * Draws the initial parameters. Order, as in the seed's constructor: all biases layer by layer, then all weights
 * layer by layer (row-major); `scaled` draws the same numbers as `standard` and multiplies each weight by 1/√n_in
 (network2 divides by √n_in, which can differ in the last bit; both are N(0, 1/n_in) draws).
 */
export function initParams(layout: ParamLayout, seed: number, scheme: InitScheme = 'standard'): Params {
  const rng = new Rng(seed);
  const params = zeroParams(layout);
  for (let i = 0; i < params.biases.length; i++) params.biases[i] = rng.nextGaussian();
  for (const { nIn, nOut, wOffset } of layout.layers) {
    const scale = scheme === 'scaled' ? 1 / Math.sqrt(nIn) : 1;
    // g · 1 is g exactly, so `standard` keeps the seed's bits.
    for (let i = wOffset; i < wOffset + nIn * nOut; i++) params.weights[i] = rng.nextGaussian() * scale;
  }
  return params;
}
