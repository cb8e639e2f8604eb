import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadRows } from '../data/samples.js';
import { loadBlasGemm } from '../kernel/blas-gemm.js';
import type { Gemm } from '../kernel/gemm.js';
import { jsGemm } from '../kernel/js-gemm.js';
import { randomProblem, relativeError, seedSample, toSeedNetwork } from '../../test/support/random-problem.js';
import { seedBackprop } from '../../test/support/seed-reference.js';
import { backpropSums } from './backprop.js';
import { COST_NAMES, type CostName } from './cost.js';
import { feedforward } from './forward.js';
import { outputSize, paramsIn, zeroParams, type ParamLayout, type Params } from './layout.js';
import { createWorkspace, layerViews } from './workspace.js';

const shapes = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 2, maxLength: 5 });

function gradientSums(
  layout: ParamLayout, params: Params, samples: ReturnType<typeof randomProblem>['samples'], rows: number, cost: CostName = 'quadratic',
) {
  const ws = createWorkspace(layout, rows);
  loadRows(samples, null, 0, rows, ws.activations[0], ws.targets, outputSize(layout));
  const nabla = zeroParams(layout);
  const total = backpropSums(jsGemm, layerViews(layout, params), ws, rows, layerViews(layout, nabla), cost);
  return { nabla, cost: total };
}

/** The cost of one sample, written out here from the book's formulas (independent of cost.ts). */
const bookCost: Record<CostName, (a: number, y: number) => number> = {
  quadratic: (a, y) => 0.5 * (a - y) ** 2,
  'cross-entropy': (a, y) => -(y * Math.log(a) + (1 - y) * Math.log(1 - a)),
};

function costOf(layout: ParamLayout, params: Params, samples: ReturnType<typeof randomProblem>['samples'], cost: CostName): number {
  const ws = createWorkspace(layout, 1);
  loadRows(samples, null, 0, 1, ws.activations[0], ws.targets, outputSize(layout));
  feedforward(jsGemm, layerViews(layout, params), ws, 1);
  const a = ws.activations[layout.sizes.length - 1];
  let total = 0;
  for (let j = 0; j < outputSize(layout); j++) total += bookCost[cost](a[j], ws.targets[j]);
  return total;
}

describe('backpropSums', () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 31 - 1 }), shapes, fc.constantFrom(...COST_NAMES)], { numRuns: 60 })(
    'agrees with central finite differences of the cost (quadratic and cross-entropy)',
    (seed, hidden, cost) => {
      const sizes = [hidden[0] + 1, ...hidden.slice(1), 3];
      const { layout, params, samples } = randomProblem(seed, sizes, 1);
      // Scale the N(0,1) weights down so sigmoids are not saturated and differences are well conditioned.
      params.weights.forEach((w, i) => { params.weights[i] = w * 0.5; });
      const { nabla, cost: analyticCost } = gradientSums(layout, params, samples, 1, cost);
      expect(relativeError(analyticCost, costOf(layout, params, samples, cost))).toBeLessThan(1e-12);
      const h = 1e-6;
      for (const [array, analytic] of [[params.weights, nabla.weights], [params.biases, nabla.biases]] as const) {
        for (let i = 0; i < array.length; i += Math.max(1, Math.floor(array.length / 8))) {
          const saved = array[i];
          array[i] = saved + h;
          const plus = costOf(layout, params, samples, cost);
          array[i] = saved - h;
          const minus = costOf(layout, params, samples, cost);
          array[i] = saved;
          const numeric = (plus - minus) / (2 * h);
          expect(Math.abs(analytic[i] - numeric)).toBeLessThan(1e-7 + 1e-5 * Math.abs(numeric));
        }
      }
    },
  );

  test.prop([fc.integer({ min: 1, max: 2 ** 31 - 1 }), shapes, fc.integer({ min: 1, max: 17 })], { numRuns: 40 })(
    "equals the seed's per-sample backprop summed over the shard, to 1e-12",
    (seed, hidden, rows) => {
      const sizes = [hidden[0], ...hidden.slice(1), Math.max(1, hidden[hidden.length - 1])];
      const { layout, params, samples } = randomProblem(seed, sizes, rows);
      const { nabla, cost } = gradientSums(layout, params, samples, rows);
      const net = toSeedNetwork(layout, params);
      const sumW = new Float64Array(layout.weightCount);
      const sumB = new Float64Array(layout.biasCount);
      let seedCost = 0;
      for (let i = 0; i < rows; i++) {
        const { x, y } = seedSample(samples, i);
        const { nablaB, nablaW } = seedBackprop(net, x, y);
        layout.layers.forEach(({ nIn, wOffset, bOffset }, l) => {
          nablaB[l].forEach((v, j) => { sumB[bOffset + j] += v; });
          nablaW[l].forEach((row, j) => row.forEach((v, k) => { sumW[wOffset + j * nIn + k] += v; }));
        });
        const out = (() => { let a = x; for (let l = 0; l < net.weights.length; l++) a = net.weights[l].map((r, j) => 1 / (1 + Math.exp(-(r.reduce((s, w, k) => s + w * a[k], 0) + net.biases[l][j])))); return a; })();
        seedCost += out.reduce((s, a, j) => s + 0.5 * (a - y[j]) ** 2, 0);
      }
      for (let i = 0; i < sumW.length; i++) expect(Math.abs(nabla.weights[i] - sumW[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(sumW[i])));
      for (let i = 0; i < sumB.length; i++) expect(Math.abs(nabla.biases[i] - sumB[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(sumB[i])));
      expect(relativeError(cost, seedCost)).toBeLessThan(1e-12);
    },
  );

  it('with cross-entropy, the output error is a − y: no σ′ factor, so a saturated wrong output still learns', () => {
    const { layout, params, samples } = randomProblem(3, [2, 1], 1);
    params.weights.fill(0);
    params.biases.fill(12); // σ(12) ≈ 1: saturated
    const ws = createWorkspace(layout, 1);
    loadRows(samples, null, 0, 1, ws.activations[0], ws.targets, 1);
    ws.targets[0] = 0;
    const nabla = zeroParams(layout);
    const quadratic = backpropSums(jsGemm, layerViews(layout, params), ws, 1, layerViews(layout, nabla), 'quadratic');
    const slowB = nabla.biases[0];
    const crossEntropy = backpropSums(jsGemm, layerViews(layout, params), ws, 1, layerViews(layout, nabla), 'cross-entropy');
    const a = 1 / (1 + Math.exp(-12));
    expect(nabla.biases[0]).toBe(a - 0);
    expect(slowB).toBeCloseTo(a * a * (1 - a), 15);
    expect(nabla.biases[0] / slowB).toBeGreaterThan(1e5);
    expect(quadratic).toBeCloseTo(0.5 * a * a, 15);
    expect(crossEntropy).toBeCloseTo(12 + Math.log1p(Math.exp(-12)), 10);
  });

  it('keeps the cross-entropy cost finite when an output rounds to exactly 0 or 1', () => {
    const { layout, params, samples } = randomProblem(4, [2, 1], 1);
    params.weights.fill(0);
    params.biases.fill(800); // σ(800) is exactly 1 in float64
    const ws = createWorkspace(layout, 1);
    loadRows(samples, null, 0, 1, ws.activations[0], ws.targets, 1);
    ws.targets[0] = 0;
    const cost = backpropSums(jsGemm, layerViews(layout, params), ws, 1, layerViews(layout, zeroParams(layout)), 'cross-entropy');
    expect(Number.isFinite(cost)).toBe(true);
    expect(cost).toBeGreaterThan(700);
    ws.targets[0] = 1;
    expect(backpropSums(jsGemm, layerViews(layout, params), ws, 1, layerViews(layout, zeroParams(layout)), 'cross-entropy')).toBe(0);
  });

  it('allocates nothing that depends on the sample count: a workspace serves any shard up to its capacity', () => {
    const { layout, params, samples } = randomProblem(7, [5, 4, 3], 9);
    const whole = gradientSums(layout, params, samples, 9);
    const ws = createWorkspace(layout, 9);
    const nabla = zeroParams(layout);
    const views = layerViews(layout, nabla);
    for (const rows of [9, 3, 9]) {
      loadRows(samples, null, 0, rows, ws.activations[0], ws.targets, 3);
      backpropSums(jsGemm, layerViews(layout, params), ws, rows, views, 'quadratic');
    }
    expect(Array.from(nabla.weights)).toEqual(Array.from(whole.nabla.weights));
  });
});

describe('backprop in float32 (--dtype float32)', () => {
  const blas = loadBlasGemm();
  const kernels = blas === null ? [jsGemm] : [jsGemm, blas];

  /** The largest difference between the float32 and float64 sums, as a fraction of the largest float64 sum. */
  function float32Error(gemm: Gemm, sizes: number[], rows: number, seed: number, cost: CostName): { error: number; costError: number } {
    const { layout, params, samples } = randomProblem(seed, sizes, rows);
    const exact = gradientSums(layout, params, samples, rows, cost);
    const ws = createWorkspace(layout, rows, 'float32');
    loadRows(samples, null, 0, rows, ws.activations[0], ws.targets, outputSize(layout));
    const nabla = zeroParams(layout, 'float32');
    const cost32 = backpropSums(gemm, layerViews(layout, paramsIn(params, 'float32')), ws, rows, layerViews(layout, nabla), cost);
    expect(nabla.weights).toBeInstanceOf(Float32Array);
    let error = 0, scale = 0;
    for (const [a, b] of [[nabla.weights, exact.nabla.weights], [nabla.biases, exact.nabla.biases]] as const) {
      for (let i = 0; i < b.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]));
        error = Math.max(error, Math.abs(a[i] - b[i]));
      }
    }
    return { error: error / scale, costError: relativeError(cost32, exact.cost) };
  }

  it.each(kernels.map((kernel) => [kernel.name, kernel] as const))('agrees with float64 to float32 precision on the %s kernel', (_name, gemm) => {
    for (const cost of COST_NAMES) {
      for (const [sizes, rows] of [[[784, 30, 10], 10], [[784, 64, 64, 10], 64]] as const) {
        for (const seed of [1, 2]) {
          const { error, costError } = float32Error(gemm, [...sizes], rows, seed, cost);
          // float32 carries 24 bits (6e-8); the sums of a few thousand products lose a few more.
          expect(error, `${cost} [${sizes}] m=${rows} seed ${seed}`).toBeLessThan(2e-5);
          expect(error).toBeGreaterThan(0); // the arithmetic really was float32
          expect(costError).toBeLessThan(1e-5);
        }
      }
    }
  });
});
