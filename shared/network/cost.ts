import type { Floats } from '../kernel/dtype.js';

/**
 * The two costs of the book: the seed's quadratic cost and network2's cross-entropy cost. Each defines the per-sample
 * cost of one output neuron and BP1, the output error δ^L = ∂C/∂z^L, for a sigmoid output a = σ(z).
 */
export const COST_NAMES = ['quadratic', 'cross-entropy'] as const;
export type CostName = (typeof COST_NAMES)[number];

/** network2.py's class names, as its save() writes them and its load() reads them. */
const BOOK_CLASS: Record<CostName, string> = { quadratic: 'QuadraticCost', 'cross-entropy': 'CrossEntropyCost' };

export function bookCostClass(cost: CostName): string {
  return BOOK_CLASS[cost];
}

/** A cost name as given on a command line, in a model file, or in network2's class-name form; null if unknown. */
export function parseCostName(text: unknown): CostName | null {
  return COST_NAMES.find((name) => text === name || text === BOOK_CLASS[name]) ?? null;
}

/** ln of a probability, floored so that a saturated output gives a large finite cost instead of ∞ (network2's nan_to_num). */
function safeLog(p: number): number {
  return Math.log(p > Number.MIN_VALUE ? p : Number.MIN_VALUE);
}

/** `sum` plus the cross-entropy of one output: −[y ln a + (1 − y) ln(1 − a)], skipping a term whose coefficient is 0. */
function addCrossEntropy(sum: number, a: number, y: number): number {
  if (y !== 0) sum -= y * safeLog(a);
  if (y !== 1) sum -= (1 - y) * safeLog(1 - a);
  return sum;
}

/**
 * Σ cost over `n` output values a against targets y, and BP1 written into `delta`:
 * - quadratic: C = ½ (a − y)², δ = (a − y) · σ'(z) with σ'(z) = a(1 − a);
 * - cross-entropy: C = −[y ln a + (1 − y) ln(1 − a)], δ = a − y (σ' cancels: the point of that cost).
 * Terms whose coefficient y or 1 − y is zero are skipped, so 0 · ln 0 counts as 0, as nan_to_num makes it in network2.
 */
export function outputErrorAndCost(cost: CostName, a: Floats, y: Floats, n: number, delta: Floats): number {
  let sum = 0;
  if (cost === 'quadratic') {
    for (let i = 0; i < n; i++) {
      const ai = a[i];
      const diff = ai - y[i];
      sum += 0.5 * diff * diff;
      delta[i] = diff * ai * (1 - ai);
    }
  } else {
    for (let i = 0; i < n; i++) {
      delta[i] = a[i] - y[i];
      sum = addCrossEntropy(sum, a[i], y[i]);
    }
  }
  return sum;
}

/** `start` plus the Σ cost of `n` output values, added in order (evaluation: no δ wanted). */
export function costSum(cost: CostName, a: Floats, y: Floats, n: number, start = 0): number {
  let sum = start;
  if (cost === 'quadratic') {
    for (let i = 0; i < n; i++) {
      const diff = a[i] - y[i];
      sum += 0.5 * diff * diff;
    }
  } else {
    for (let i = 0; i < n; i++) sum = addCrossEntropy(sum, a[i], y[i]);
  }
  return sum;
}
