import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from './backend.js';
import { compareGradients, DEFAULT_CHECK_TOLERANCE, formatErrorTable } from './compare.js';
import { clusterGradient, randomProblem } from '../../test/support/reference-problem.js';
import { referenceGradient } from './tfjs-gradient.js';
import type { Tf } from './tfjs-gradient.js';
import { COST_NAMES } from '../../shared/network/cost.js';

const SHAPES: { sizes: number[]; batches: number[] }[] = [
  { sizes: [4, 3, 2], batches: [1, 2, 7] },
  { sizes: [784, 30, 10], batches: [1, 10, 33] },
  { sizes: [5, 8, 6, 4, 3], batches: [1, 5, 16] }, // three hidden layers
  { sizes: [6, 5, 1], batches: [1, 3, 12] }, // a single output neuron
];

describe.each(['wasm', 'cpu'] as const)('referenceGradient on the %s backend', (backend) => {
  let tf: Tf;
  beforeAll(async () => {
    ({ tf } = await loadTf(backend));
    expect(tf.getBackend()).toBe(backend);
  });

  for (const { sizes, batches } of SHAPES) {
    for (const rows of batches) {
      it.each(COST_NAMES)(`agrees with backpropSums for sizes [${sizes}] and batch ${rows}, %s cost`, (cost) => {
        for (const seed of [1, 2, 3]) {
          const problem = randomProblem(seed * 1009 + rows, sizes, rows);
          const reference = referenceGradient(tf, sizes, problem.params, problem.x, problem.y, rows, cost);
          const comparison = compareGradients(problem.layout, clusterGradient(problem, cost), reference, DEFAULT_CHECK_TOLERANCE);
          expect(comparison.ok, formatErrorTable(comparison)).toBe(true);
          // Not vacuous: a zero or tiny reference would also "agree" with a zero cluster gradient.
          expect(Math.max(...reference.weights.map(Math.abs))).toBeGreaterThan(1e-6);
        }
      });
    }
  }

  it('stays within the default tolerance with a margin on the realistic cases (and prints what it measured)', () => {
    for (const { sizes, rows, seeds, cost } of [
      { sizes: [784, 30, 10], rows: 10, seeds: 10, cost: 'quadratic' as const },
      { sizes: [784, 30, 10], rows: 10, seeds: 10, cost: 'cross-entropy' as const },
      { sizes: [784, 256, 256, 10], rows: 128, seeds: 2, cost: 'quadratic' as const },
      { sizes: [784, 256, 256, 10], rows: 128, seeds: 2, cost: 'cross-entropy' as const },
    ]) {
      let worst = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const problem = randomProblem(seed, sizes, rows);
        const reference = referenceGradient(tf, sizes, problem.params, problem.x, problem.y, rows, cost);
        worst = Math.max(worst, compareGradients(problem.layout, clusterGradient(problem, cost), reference, DEFAULT_CHECK_TOLERANCE).maxRelError);
      }
      console.log(`${backend} [${sizes}] batch ${rows}, ${cost}: worst relative error ${worst.toExponential(2)} over ${seeds} seeds (tolerance ${DEFAULT_CHECK_TOLERANCE})`);
      expect(worst).toBeLessThan(DEFAULT_CHECK_TOLERANCE / 4);
    }
  });

  it('returns the gradient in the seed orientation, w[j][k] joining input k to neuron j', () => {
    // One layer, one sample: ∂C/∂w_jk = (a_j − y_j) a_j (1 − a_j) x_k, computed here by hand in float64.
    const sizes = [3, 2];
    const params = { weights: Float64Array.from([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]), biases: Float64Array.from([0.05, -0.05]) };
    const x = Float64Array.from([1, 2, 3]);
    const y = Float64Array.from([1, 0]);
    const nabla = referenceGradient(tf, sizes, params, x, y, 1, 'quadratic');
    for (let j = 0; j < 2; j++) {
      let z = params.biases[j];
      for (let k = 0; k < 3; k++) z += params.weights[j * 3 + k] * x[k];
      const a = 1 / (1 + Math.exp(-z));
      const delta = (a - y[j]) * a * (1 - a);
      expect(nabla.biases[j]).toBeCloseTo(delta, 6);
      for (let k = 0; k < 3; k++) expect(nabla.weights[j * 3 + k]).toBeCloseTo(delta * x[k], 6);
    }
  });

  it('reads only the first rows of longer input buffers', () => {
    const problem = randomProblem(7, [4, 3, 2], 5);
    const exact = referenceGradient(tf, [4, 3, 2], problem.params, problem.x, problem.y, 5, 'quadratic');
    const longX = new Float64Array(problem.x.length + 8).fill(99);
    longX.set(problem.x);
    const longY = new Float64Array(problem.y.length + 4).fill(99);
    longY.set(problem.y);
    expect(referenceGradient(tf, [4, 3, 2], problem.params, longX, longY, 5, 'quadratic')).toEqual(exact);
  });

  it('leaves no tensor behind, however often it runs', () => {
    const problem = randomProblem(3, [784, 30, 10], 10);
    referenceGradient(tf, [784, 30, 10], problem.params, problem.x, problem.y, 10, 'quadratic');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) referenceGradient(tf, [784, 30, 10], problem.params, problem.x, problem.y, 10, 'quadratic');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects parameters or inputs that do not fit the sizes, saying what was expected', () => {
    const problem = randomProblem(1, [4, 3, 2], 2);
    expect(() => referenceGradient(tf, [4, 3, 2], { weights: new Float64Array(5), biases: problem.params.biases }, problem.x, problem.y, 2, 'quadratic'))
      .toThrow(/5 weights, expected 18 for sizes \[4,3,2\]/);
    expect(() => referenceGradient(tf, [4, 3, 2], problem.params, problem.x, problem.y, 3, 'quadratic')).toThrow(/x holds 8 values, 3 rows of sizes \[4,3,2\] need 12/);
    expect(() => referenceGradient(tf, [4, 3, 2], problem.params, problem.x, problem.y, 0, 'quadratic')).toThrow(RangeError);
  });
});
