import type { Gemm } from '../kernel/gemm.js';
import { classOf, loadRows, type SampleSet } from '../data/samples.js';
import { argmax, feedforward } from './forward.js';
import { outputSize, type ParamLayout, type Params } from './layout.js';
import { createWorkspace, layerViews, type Workspace } from './workspace.js';

export interface Evaluation {
  count: number;
  correct: number;
  /** correct / count, in [0, 1]. */
  accuracy: number;
  /** Mean quadratic cost ½‖a − y‖² per sample (the seed's total_cost without regularisation). */
  cost: number;
}

/** Feeds the whole set forward in blocks and counts argmax hits, as the seed's evaluate() does. */
export function evaluate(gemm: Gemm, layout: ParamLayout, params: Params, set: SampleSet, blockRows = 256, ws?: Workspace): Evaluation {
  const workspace = ws && ws.capacity >= blockRows ? ws : createWorkspace(layout, blockRows);
  const views = layerViews(layout, params);
  const nOut = outputSize(layout);
  const L = layout.layers.length;
  let correct = 0;
  let cost = 0;
  for (let from = 0; from < set.count; from += blockRows) {
    const rows = Math.min(blockRows, set.count - from);
    loadRows(set, null, from, rows, workspace.activations[0], workspace.targets, nOut);
    feedforward(gemm, views, workspace, rows);
    const out = workspace.activations[L];
    for (let r = 0; r < rows; r++) {
      if (argmax(out, r * nOut, nOut) === classOf(set, from + r)) correct++;
      for (let j = 0; j < nOut; j++) {
        const diff = out[r * nOut + j] - workspace.targets[r * nOut + j];
        cost += 0.5 * diff * diff;
      }
    }
  }
  const count = set.count;
  return { count, correct, accuracy: count ? correct / count : 0, cost: count ? cost / count : 0 };
}
