import type { Gemm } from '../kernel/gemm.js';
import { classOf, loadRows, type SampleSet } from '../data/samples.js';
import { type CostName, costSum } from './cost.js';
import { argmax, feedforward } from './forward.js';
import { outputSize, type ParamLayout, type Params } from './layout.js';
import { createWorkspace, layerViews, type Workspace } from './workspace.js';

export interface Evaluation {
  count: number;
  correct: number;
  /** correct / count, in [0, 1]. */
  accuracy: number;
  /** Mean cost per sample under the given cost (without any L2 term). */
  cost: number;
  /** confusion[actual * classes + predicted]: how many samples of class `actual` the network called `predicted`. */
  confusion: Uint32Array;
}

/** What an evaluation has counted so far: one set, or the blocks of a stream evaluated in turn into one tally. */
export interface EvaluationTally {
  count: number;
  correct: number;
  /** Σ cost, added sample by sample in order (so a set evaluated in parts sums exactly as when whole). */
  costTotal: number;
  confusion: Uint32Array;
}

export function newTally(layout: ParamLayout): EvaluationTally {
  const nOut = outputSize(layout);
  return { count: 0, correct: 0, costTotal: 0, confusion: new Uint32Array(nOut * nOut) };
}

/**
 * Feeds the whole set forward in blocks and counts argmax hits, as the seed's evaluate() does. With `tally`, the set
 * is counted into it (after what it already holds) and the result covers everything the tally has seen.
 */
export function evaluate(
  gemm: Gemm, layout: ParamLayout, params: Params, set: SampleSet, cost: CostName, blockRows = 256, ws?: Workspace,
  tally: EvaluationTally = newTally(layout),
): Evaluation {
  const workspace = ws && ws.capacity >= blockRows ? ws : createWorkspace(layout, blockRows);
  const views = layerViews(layout, params);
  const nOut = outputSize(layout);
  const L = layout.layers.length;
  const { confusion } = tally;
  let { correct, costTotal } = tally;
  for (let from = 0; from < set.count; from += blockRows) {
    const rows = Math.min(blockRows, set.count - from);
    loadRows(set, null, from, rows, workspace.activations[0], workspace.targets, nOut);
    feedforward(gemm, views, workspace, rows);
    const out = workspace.activations[L];
    for (let r = 0; r < rows; r++) {
      const predicted = argmax(out, r * nOut, nOut);
      const actual = classOf(set, from + r);
      if (predicted === actual) correct++;
      if (actual >= 0 && actual < nOut) confusion[actual * nOut + predicted]++;
    }
    costTotal = costSum(cost, out, workspace.targets, rows * nOut, costTotal);
  }
  tally.correct = correct;
  tally.costTotal = costTotal;
  tally.count += set.count;
  return evaluationOf(tally);
}

/** The evaluation of everything a tally has counted. */
export function evaluationOf({ count, correct, costTotal, confusion }: EvaluationTally): Evaluation {
  return { count, correct, accuracy: count ? correct / count : 0, cost: count ? costTotal / count : 0, confusion };
}
