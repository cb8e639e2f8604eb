/**
 * Part of section 1: the sigmoid loop of a layer (σ(z + b) over 128 rows × 256 units, as feedforward does), with the
 * network's own sigmoid (exp.ts) against the same loop on Math.exp, and the C addon's loop (native/elementwise.c,
 * the same bits as exp.ts) when it is loaded. Rounds alternate between them, so background load hits them alike;
 * each figure is the median of its rounds.
 */
import { nativeElementwise } from '../shared/kernel/elementwise.js';
import { sigmoid } from '../shared/network/exp.js';
import { contentionBetween, snapshot, type Contention } from './contention.js';
import { median, runFor } from './timing.js';

export interface SigmoidResult {
  /** Nanoseconds per value: σ with exp.ts, and with Math.exp. */
  oursNs: number;
  mathExpNs: number;
  /** mathExpNs / oursNs. */
  speedup: number;
  /** Nanoseconds per value of the C loop (null: the addon is not loaded). */
  nativeNs: number | null;
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

/** The C loop computes in place: it is given a fresh copy of z each time (the copy is timed too; a memcpy, ~0.1 ns a value). */
function layerNative(z: Float64Array, b: Float64Array, out: Float64Array): number {
  out.set(z);
  nativeElementwise?.sigmoidBias(out, b, ROWS, UNITS);
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
  if (nativeElementwise) runFor(budgetMs / 10, () => layerNative(z, b, out));
  const ours: number[] = [], mathExp: number[] = [], native: number[] = [];
  const share = budgetMs / rounds / (nativeElementwise ? 3 : 2);
  const nsPerValue = (t: { ms: number; units: number }): number => (t.ms * 1e6) / t.units;
  for (let round = 0; round < rounds; round++) {
    ours.push(nsPerValue(runFor(share, () => layerOurs(z, b, out))));
    mathExp.push(nsPerValue(runFor(share, () => layerMathExp(z, b, out))));
    if (nativeElementwise) native.push(nsPerValue(runFor(share, () => layerNative(z, b, out))));
  }
  const oursNs = median(ours), mathExpNs = median(mathExp);
  return {
    oursNs, mathExpNs, speedup: mathExpNs / oursNs, nativeNs: nativeElementwise ? median(native) : null, contention: contentionBetween(before, snapshot()),
  };
}
