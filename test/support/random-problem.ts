import type { SampleSet } from '../../shared/data/samples.js';
import { initParams } from '../../shared/network/init.js';
import { createLayout, type ParamLayout, type Params } from '../../shared/network/layout.js';
import { Rng } from '../../shared/rng.js';
import type { SeedNetwork } from './seed-reference.js';

export interface RandomProblem {
  layout: ParamLayout;
  params: Params;
  samples: SampleSet;
}

/** A seeded random network and `count` samples with inputs in [0, 1) and labels in [0, sizes[-1]). */
export function randomProblem(seed: number, sizes: number[], count: number): RandomProblem {
  const layout = createLayout(sizes);
  const params = initParams(layout, seed);
  const rng = new Rng(seed + 1);
  const nIn = sizes[0], nOut = sizes[sizes.length - 1];
  const x = new Float64Array(count * nIn);
  for (let i = 0; i < x.length; i++) x[i] = rng.nextFloat();
  const labels = new Uint16Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.nextInt(nOut);
  return { layout, params, samples: { count, inputSize: nIn, x, xDivisor: 1, labels, y: null, targetSize: nOut } };
}

/** The same parameters as the seed's nested lists. */
export function toSeedNetwork(layout: ParamLayout, params: Params): SeedNetwork {
  return {
    sizes: [...layout.sizes],
    biases: layout.layers.map(({ nOut, bOffset }) => Array.from(params.biases.subarray(bOffset, bOffset + nOut))),
    weights: layout.layers.map(({ nIn, nOut, wOffset }) =>
      Array.from({ length: nOut }, (_, j) => Array.from(params.weights.subarray(wOffset + j * nIn, wOffset + (j + 1) * nIn)))),
  };
}

/** Sample i as the seed's (x, y) pair with a one-hot y. */
export function seedSample(samples: SampleSet, i: number): { x: number[]; y: number[] } {
  const x = Array.from(samples.x.subarray(i * samples.inputSize, (i + 1) * samples.inputSize), (v) => v / samples.xDivisor);
  const y = new Array(samples.targetSize).fill(0);
  y[(samples.labels as Uint16Array)[i]] = 1;
  return { x, y };
}

export function relativeError(a: number, b: number, floor = 1e-12): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}
