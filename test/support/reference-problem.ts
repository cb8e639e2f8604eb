import { jsGemm } from '../../shared/kernel/js-gemm.js';
import { backpropSums } from '../../shared/network/backprop.js';
import type { CostName } from '../../shared/network/cost.js';
import { initParams } from '../../shared/network/init.js';
import { createLayout, zeroParams } from '../../shared/network/layout.js';
import type { ParamLayout, Params } from '../../shared/network/layout.js';
import { createWorkspace, layerViews } from '../../shared/network/workspace.js';
import { Rng } from '../../shared/rng.js';

/** A seeded mini-batch problem like the real one: N(0,1) parameters, MNIST-like inputs in [0,1), one-hot targets. */
export interface RandomProblem {
  layout: ParamLayout;
  params: Params;
  x: Float64Array;
  y: Float64Array;
  rows: number;
}

export function randomProblem(seed: number, sizes: readonly number[], rows: number): RandomProblem {
  const layout = createLayout(sizes);
  const params = initParams(layout, seed);
  const rng = new Rng(seed ^ 0x5eed);
  const nIn = layout.sizes[0];
  const nOut = layout.sizes[layout.sizes.length - 1];
  const x = new Float64Array(rows * nIn);
  for (let i = 0; i < x.length; i++) x[i] = rng.nextFloat();
  const y = new Float64Array(rows * nOut);
  for (let i = 0; i < rows; i++) y[i * nOut + rng.nextInt(nOut)] = 1;
  return { layout, params, x, y, rows };
}

/** The cluster's answer for a problem: backpropSums on the plain TypeScript kernel, float64. */
export function clusterGradient({ layout, params, x, y, rows }: RandomProblem, cost: CostName = 'quadratic'): Params {
  const ws = createWorkspace(layout, rows);
  ws.activations[0].set(x.subarray(0, rows * layout.sizes[0]));
  ws.targets.set(y.subarray(0, rows * layout.sizes[layout.sizes.length - 1]));
  const nabla = zeroParams(layout);
  backpropSums(jsGemm, layerViews(layout, params), ws, rows, layerViews(layout, nabla), cost);
  return nabla;
}
