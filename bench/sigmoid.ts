/**
 * Part of section 1: the sigmoid loop of a layer (σ(z + b) over 128 rows × 256 units, as feedforward does), with the
 * network's own sigmoid (forward.ts, on exp.ts) against the same loop on Math.exp. Rounds alternate between the two, so
 * background load hits both alike; each figure is the median of its rounds.
 */
import { sigmoid } from '../shared/network/forward.js';
import { contentionBetween, snapshot, type Contention } from './contention.js';
import { median, runFor } from './timing.js';

export interface SigmoidResult {
  /** Nanoseconds per value: σ with exp.ts, and with Math.exp. */
  oursNs: number;
  mathExpNs: number;
  /** mathExpNs / oursNs. */
  speedup: number;
  contention: Contention | null;
}

const ROWS = 128;
const UNITS = 256;

// Two copies of one loop, so each call site stays monomorphic (V8 inlines the function it sees).
function layerOurs(z: Float64Array, b: Float64Array, out: Float64Array): number {
  for (let i = 0; i < ROWS; i++) for (let j = 0; j < UNITS; j++) out[i * UNITS + j] = sigmoid(z[i * UNITS + j] + b[j]);
  return z.length;
}

function layerMathExp(z: Float64Array, b: Float64Array, out: Float64Array): number {
  for (let i = 0; i < ROWS; i++) for (let j = 0; j < UNITS; j++) out[i * UNITS + j] = 1 / (1 + Math.exp(-(z[i * UNITS + j] + b[j])));
  return z.length;
}

export function measureSigmoid(budgetMs: number, rounds: number): SigmoidResult {
  // Pre-activations of a trained-looking layer: mostly within ±8, a few saturated.
  const z = Float64Array.from({ length: ROWS * UNITS }, (_, i) => Math.sin(i * 0.7) * 8 + (i % 97 === 0 ? 40 : 0));
  const b = Float64Array.from({ length: UNITS }, (_, j) => Math.cos(j) * 0.5);
  const out = new Float64Array(ROWS * UNITS);
  const before = snapshot();
  runFor(budgetMs / 10, () => layerOurs(z, b, out));
  runFor(budgetMs / 10, () => layerMathExp(z, b, out));
  const ours: number[] = [], mathExp: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const a = runFor(budgetMs / rounds / 2, () => layerOurs(z, b, out));
    ours.push((a.ms * 1e6) / a.units);
    const m = runFor(budgetMs / rounds / 2, () => layerMathExp(z, b, out));
    mathExp.push((m.ms * 1e6) / m.units);
  }
  const oursNs = median(ours), mathExpNs = median(mathExp);
  return { oursNs, mathExpNs, speedup: mathExpNs / oursNs, contention: contentionBetween(before, snapshot()) };
}
