import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadRows } from '../data/samples.js';
import { jsGemm } from '../kernel/js-gemm.js';
import { randomProblem } from '../../test/support/random-problem.js';
import { backpropSums } from './backprop.js';
import { COST_NAMES, type CostName } from './cost.js';
import { outputSize, zeroParams, type Params } from './layout.js';
import { sgdStep } from './sgd.js';
import { createWorkspace, layerViews } from './workspace.js';

const copy = (params: Params): Params => ({ weights: params.weights.slice(), biases: params.biases.slice() });

describe('sgdStep', () => {
  test.prop([
    fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom(...COST_NAMES),
    fc.double({ min: 0.01, max: 5, noNaN: true }), fc.integer({ min: 6, max: 1000 }),
  ], { numRuns: 40 })(
    'with L2, one step is gradient descent on C = (1/m)·Σ C_x + (λ/2n)·‖w‖² (central finite differences; biases not decayed)',
    (seed, m, cost: CostName, lambda, n) => {
      const { layout, params, samples } = randomProblem(seed, [4, 3, 2], m);
      params.weights.forEach((w, i) => { params.weights[i] = w * 0.5; });
      const ws = createWorkspace(layout, m);
      loadRows(samples, null, 0, m, ws.activations[0], ws.targets, outputSize(layout));
      const regularisedCost = (p: Params): number => {
        const sum = backpropSums(jsGemm, layerViews(layout, p), ws, m, layerViews(layout, zeroParams(layout)), cost);
        return sum / m + (lambda / (2 * n)) * p.weights.reduce((s, w) => s + w * w, 0);
      };
      const nabla = zeroParams(layout);
      backpropSums(jsGemm, layerViews(layout, params), ws, m, layerViews(layout, nabla), cost);
      const eta = 0.7;
      const next = copy(params);
      sgdStep(next, nabla, eta, m, lambda, n);

      const h = 1e-6;
      for (const key of ['weights', 'biases'] as const) {
        for (let i = 0; i < params[key].length; i++) {
          const probe = copy(params);
          probe[key][i] = params[key][i] + h;
          const plus = regularisedCost(probe);
          probe[key][i] = params[key][i] - h;
          const minus = regularisedCost(probe);
          const numeric = (plus - minus) / (2 * h);
          const stepTaken = (params[key][i] - next[key][i]) / eta;
          expect(Math.abs(stepTaken - numeric)).toBeLessThan(1e-7 + 1e-5 * Math.abs(numeric));
        }
      }
    },
  );

  it("with λ = 0 gives exactly the seed's w − (η/m)·Σ nabla_w, bit for bit", () => {
    const { params } = randomProblem(5, [6, 5, 3], 1);
    const nabla = { weights: params.weights.map((w) => w * 0.37 + 0.1), biases: params.biases.map((b) => b * -1.3) };
    const ours = copy(params);
    sgdStep(ours, nabla, 3, 10);
    const rate = 3 / 10;
    expect(Array.from(ours.weights)).toEqual(Array.from(params.weights, (w, i) => w - rate * nabla.weights[i]));
    expect(Array.from(ours.biases)).toEqual(Array.from(params.biases, (b, i) => b - rate * nabla.biases[i]));
  });

  it("with L2 follows network2's order of operations, (1 − η·(λ/n))·w − (η/m)·nw, bit for bit", () => {
    const { params } = randomProblem(6, [6, 5, 3], 1);
    const nabla = { weights: params.weights.map((w) => w * 0.21 - 0.3), biases: params.biases.map((b) => b * 0.5) };
    const ours = copy(params);
    const [eta, m, lambda, n] = [0.5, 10, 5, 50_000];
    const fingerprint = sgdStep(ours, nabla, eta, m, lambda, n);
    expect(Array.from(ours.weights)).toEqual(Array.from(params.weights, (w, i) => (1 - eta * (lambda / n)) * w - (eta / m) * nabla.weights[i]));
    expect(Array.from(ours.biases)).toEqual(Array.from(params.biases, (b, i) => b - (eta / m) * nabla.biases[i]));
    // The fingerprint: the weights in four interleaved sums (45 weights: the 45th goes to sum 0), the biases in a
    // fifth, added as ((s0 + s1) + (s2 + s3)) + sb.
    expect(ours.weights.length % 4).toBe(1);
    const lanes = [0, 0, 0, 0];
    const whole = ours.weights.length - 1;
    ours.weights.forEach((w, i) => { lanes[i < whole ? i % 4 : 0] += w; });
    let biasSum = 0;
    for (const b of ours.biases) biasSum += b;
    expect(fingerprint).toBe(((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + biasSum);
  });

  it('writes the float32 rounding of every new parameter into `rounded`, leaving the float64 update as it was', () => {
    const { params } = randomProblem(7, [6, 5, 3], 1);
    const nabla = { weights: params.weights.map((w) => w * 0.41 - 0.2), biases: params.biases.map((b) => b * 0.9) };
    const plain = copy(params);
    const withRounding = copy(params);
    const rounded = { weights: new Float32Array(params.weights.length), biases: new Float32Array(params.biases.length) };
    const fingerprint = sgdStep(withRounding, nabla, 0.5, 10, 5, 1000, rounded);
    expect(fingerprint).toBe(sgdStep(plain, nabla, 0.5, 10, 5, 1000));
    expect(withRounding).toEqual(plain);
    expect(rounded.weights).toEqual(Float32Array.from(plain.weights));
    expect(rounded.biases).toEqual(Float32Array.from(plain.biases));
  });

  it('gives a replica updated by another rule (another eta, or no decay) another fingerprint', () => {
    const { params } = randomProblem(9, [6, 5, 3], 1);
    const nabla = { weights: params.weights.map((w) => w * 0.3 + 0.1), biases: params.biases.map((b) => b - 0.2) };
    const reference = sgdStep(copy(params), nabla, 0.5, 10, 5, 1000);
    expect(sgdStep(copy(params), nabla, 0.5, 10, 5, 1000)).toBe(reference);
    expect(sgdStep(copy(params), nabla, 0.5000001, 10, 5, 1000)).not.toBe(reference);
    expect(sgdStep(copy(params), nabla, 0.5, 10)).not.toBe(reference);
  });

  it('reports an update that makes any parameter infinite or NaN (divergence), and only then', () => {
    const { params } = randomProblem(8, [3, 2], 1);
    const nabla = { weights: params.weights.map(() => 1), biases: params.biases.map(() => 1) };
    expect(sgdStep(copy(params), nabla, 3, 10)).toEqual(expect.any(Number));
    expect(sgdStep(copy(params), nabla, 1e308, 1e-10)).toBeNull();
    const nan = { weights: nabla.weights.slice(), biases: nabla.biases.slice() };
    nan.biases[1] = Number.NaN;
    expect(sgdStep(copy(params), nan, 3, 10)).toBeNull();
  });

  it('reports one non-finite weight wherever it sits: in any of the four sums, in the tail, with the others finite', () => {
    const { params } = randomProblem(8, [6, 5, 3], 1); // 45 weights: 11 groups of four, then one
    const nabla = { weights: params.weights.map(() => 0.5), biases: params.biases.map(() => 0.5) };
    for (const index of [0, 1, 2, 3, 22, 43, 44]) {
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const broken = { weights: nabla.weights.slice(), biases: nabla.biases };
        broken.weights[index] = bad;
        expect(sgdStep(copy(params), broken, 3, 10), `weight ${index} = ${bad}`).toBeNull();
      }
    }
    // +∞ and −∞ in two different sums: each sum is infinite, their total NaN.
    const opposite = { weights: nabla.weights.slice(), biases: nabla.biases };
    opposite.weights[0] = Number.NEGATIVE_INFINITY;
    opposite.weights[1] = Number.POSITIVE_INFINITY;
    expect(sgdStep(copy(params), opposite, 3, 10)).toBeNull();
  });
});
