import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from './backend.js';
import { compareGradients, DEFAULT_CHECK_TOLERANCE, formatErrorTable, formatMismatch } from './compare.js';
import type { GradientComparison } from './compare.js';
import { cloneParams, createLayout } from '../../shared/network/layout.js';
import type { ParamLayout, Params } from '../../shared/network/layout.js';
import { clusterGradient, randomProblem } from '../../test/support/reference-problem.js';
import { referenceGradient } from './tfjs-gradient.js';

const tol = DEFAULT_CHECK_TOLERANCE;

/** A real pair: the cluster's float64 gradient and TF.js's float32 one for the same mini-batch. */
async function gradientPair(sizes: number[], rows: number, seed: number): Promise<{ layout: ParamLayout; cluster: Params; reference: Params }> {
  const { tf } = await loadTf();
  const problem = randomProblem(seed, sizes, rows);
  return { layout: problem.layout, cluster: clusterGradient(problem), reference: referenceGradient(tf, sizes, problem.params, problem.x, problem.y, rows, 'quadratic') };
}

/** Index (within the layer's weights) of an entry of moderate size: 10% to 50% of the layer's largest. */
function moderateEntry(values: Float64Array): number {
  const max = Math.max(...values.map(Math.abs));
  const index = values.findIndex((v) => Math.abs(v) >= 0.1 * max && Math.abs(v) <= 0.5 * max);
  return index >= 0 ? index : values.findIndex((v) => Math.abs(v) === max);
}

describe('compareGradients against a real TF.js reference', () => {
  const sizes = [5, 8, 6, 4, 3];
  let pair: Awaited<ReturnType<typeof gradientPair>>;
  beforeAll(async () => {
    pair = await gradientPair(sizes, 9, 42);
  });

  it('accepts the correct gradient', () => {
    const comparison = compareGradients(pair.layout, pair.cluster, pair.reference, tol);
    expect(comparison.ok).toBe(true);
    expect(comparison.maxRelError).toBeLessThan(tol);
    expect(formatMismatch(12, comparison)).toMatch(/^reference check step 12: ok/);
  });

  for (const layer of [1, 2, 3, 4]) {
    it(`fails when layer ${layer}'s weights have the wrong sign, and names layer ${layer}`, () => {
      const { wOffset, nIn, nOut } = pair.layout.layers[layer - 1];
      const cluster = cloneParams(pair.cluster);
      for (let i = wOffset; i < wOffset + nIn * nOut; i++) cluster.weights[i] = -cluster.weights[i];
      const comparison = compareGradients(pair.layout, cluster, pair.reference, tol);
      expect(comparison.ok).toBe(false);
      expect(comparison.worst).toMatchObject({ layer, kind: 'weights' });
      expect(comparison.worst.relError).toBeCloseTo(2, 2);
      expect(comparison.layers.filter((l) => l.maxRelError > tol).map((l) => l.layer)).toEqual([layer]);
      const { j, k } = comparison.worst;
      expect(formatMismatch(7, comparison)).toContain(`step 7: layer ${layer} (${nIn}→${nOut}) weights[${j}][${k}]`);
    });

    it(`fails when one weight of layer ${layer} is off by 1%, and names that weight`, () => {
      const { wOffset, nIn, nOut } = pair.layout.layers[layer - 1];
      const index = moderateEntry(pair.cluster.weights.subarray(wOffset, wOffset + nIn * nOut));
      const cluster = cloneParams(pair.cluster);
      cluster.weights[wOffset + index] *= 1.01;
      const comparison = compareGradients(pair.layout, cluster, pair.reference, tol);
      expect(comparison.ok).toBe(false);
      const j = Math.floor(index / nIn);
      const k = index % nIn;
      expect(comparison.worst).toMatchObject({ layer, kind: 'weights', index, j, k, cluster: cluster.weights[wOffset + index] });
      expect(comparison.worst.reference).toBe(pair.reference.weights[wOffset + index]);
      const message = formatMismatch(31, comparison);
      expect(message).toContain(`reference check FAILED at step 31: layer ${layer} (${nIn}→${nOut}) weights[${j}][${k}]`);
      expect(message).toContain(`cluster ${cluster.weights[wOffset + index].toPrecision(8)}`);
      expect(message).toContain(`TF.js reference ${pair.reference.weights[wOffset + index].toPrecision(8)}`);
      expect(message).toContain(`tolerance ${tol.toExponential(2)}`);
    });

    it(`fails when one bias of layer ${layer} is off by 1%, and names that bias`, () => {
      const { bOffset, nIn, nOut } = pair.layout.layers[layer - 1];
      const index = moderateEntry(pair.cluster.biases.subarray(bOffset, bOffset + nOut));
      const cluster = cloneParams(pair.cluster);
      cluster.biases[bOffset + index] *= 1.01;
      const comparison = compareGradients(pair.layout, cluster, pair.reference, tol);
      expect(comparison.ok).toBe(false);
      expect(comparison.worst).toMatchObject({ layer, kind: 'biases', index, j: index, k: -1 });
      expect(formatMismatch(3, comparison)).toContain(`step 3: layer ${layer} (${nIn}→${nOut}) biases[${index}]`);
    });
  }

  it('catches a 1% change in the [784,30,10] network too', async () => {
    const big = await gradientPair([784, 30, 10], 10, 5);
    const { wOffset, nIn } = big.layout.layers[0];
    const index = moderateEntry(big.cluster.weights.subarray(wOffset, wOffset + nIn * 30));
    const cluster = cloneParams(big.cluster);
    cluster.weights[wOffset + index] *= 0.99;
    const comparison = compareGradients(big.layout, cluster, big.reference, tol);
    expect(comparison.ok).toBe(false);
    expect(comparison.worst).toMatchObject({ layer: 1, kind: 'weights', j: Math.floor(index / nIn), k: index % nIn });
  });

  it('fails on a NaN in the cluster gradient, with an infinite error', () => {
    const cluster = cloneParams(pair.cluster);
    cluster.biases[pair.layout.layers[2].bOffset + 1] = Number.NaN;
    const comparison = compareGradients(pair.layout, cluster, pair.reference, tol);
    expect(comparison.ok).toBe(false);
    expect(comparison.worst).toMatchObject({ layer: 3, kind: 'biases', index: 1, relError: Infinity, absError: Infinity });
    expect(formatMismatch(1, comparison)).toContain('cluster NaN');
  });

  it('prints an aligned per-layer table that marks the failing layer', () => {
    const cluster = cloneParams(pair.cluster);
    const { bOffset } = pair.layout.layers[1];
    cluster.biases[bOffset] += 1;
    const table = formatErrorTable(compareGradients(pair.layout, cluster, pair.reference, tol));
    const lines = table.split('\n');
    expect(lines).toHaveLength(1 + 4 + 1);
    expect(lines[0]).toMatch(/^layer +shape +max abs error +max rel error +worst entry +status$/);
    expect(lines[1]).toMatch(/^ +1 +5→8 .* ok$/);
    expect(lines[2]).toMatch(/^ +2 +8→6 .* biases\[0\] +FAIL$/);
    expect(lines[5]).toMatch(/^ *all .*FAIL \(tolerance 2\.00e-3\)$/);
    // The number columns are right-aligned: every row's number ends where the header's title ends.
    for (const title of ['max abs error', 'max rel error']) {
      const end = lines[0].indexOf(title) + title.length;
      for (const line of lines.slice(1)) expect(line.slice(0, end)).toMatch(/ \d\.\d\de[-+]\d+$/);
    }
  });
});

describe('compareGradients on hand-made gradients', () => {
  const layout = createLayout([2, 2, 1]);
  const reference: Params = { weights: Float64Array.from([1, -2, 0.5, 4, 2, -1]), biases: Float64Array.from([0.25, 1, 3]) };

  const compare = (change: (p: Params) => void, tolerance = tol): GradientComparison => {
    const cluster = cloneParams(reference);
    change(cluster);
    return compareGradients(layout, cluster, reference, tolerance);
  };

  it('judges entries below 1% of their tensor\'s largest by absolute error (the floor)', () => {
    // Layer 1 weights peak at 4: floor 0.04. A change of 5e-5 in any entry is 5e-5 / max(|r|, 0.04) ≤ 1.25e-3.
    const tiny: Params = cloneParams(reference);
    tiny.weights[0] = 1e-9;
    const withTiny = (delta: number): GradientComparison => {
      const cluster = cloneParams(tiny);
      cluster.weights[0] += delta;
      return compareGradients(layout, cluster, tiny, tol);
    };
    expect(withTiny(5e-5).worst.relError).toBeCloseTo(5e-5 / 0.04, 12);
    expect(withTiny(5e-5).ok).toBe(true);
    expect(withTiny(1e-4).ok).toBe(false);
  });

  it('reports the largest relative error per layer and overall, 1-based layers', () => {
    const comparison = compare((p) => {
      p.weights[5] = -1.001; // layer 2, weights[0][1]: relative 1e-3
      p.biases[0] = 0.2501; // layer 1, biases[0]: 1e-4 / 0.25 = 4e-4
    });
    expect(comparison.ok).toBe(true);
    expect(comparison.layers[0]).toMatchObject({ layer: 1, nIn: 2, nOut: 2 });
    expect(comparison.layers[0].maxRelError).toBeCloseTo(4e-4, 9);
    expect(comparison.layers[1].maxRelError).toBeCloseTo(1e-3, 9);
    expect(comparison.worst).toMatchObject({ layer: 2, kind: 'weights', index: 1, j: 0, k: 1 });
    expect(comparison.maxAbsError).toBeCloseTo(1e-3, 12);
  });

  it('fails just above the tolerance and passes at it', () => {
    expect(compare((p) => { p.biases[2] = 3 * (1 + 1.01 * tol); }).ok).toBe(false);
    expect(compare((p) => { p.biases[2] = 3 * (1 + 0.99 * tol); }).ok).toBe(true);
  });

  it('passes identical all-zero gradients (no 0/0)', () => {
    const zero = { weights: new Float64Array(6), biases: new Float64Array(3) };
    expect(compareGradients(layout, zero, zero, tol)).toMatchObject({ ok: true, maxRelError: 0, maxAbsError: 0 });
  });

  it('rejects gradients of the wrong length and a tolerance that is not positive', () => {
    expect(() => compareGradients(layout, { weights: new Float64Array(5), biases: reference.biases }, reference, tol))
      .toThrow('cluster gradient has 5 weights, expected 6 for sizes [2,2,1]');
    expect(() => compareGradients(layout, reference, reference, 0)).toThrow(RangeError);
    expect(() => compareGradients(layout, reference, reference, Number.NaN)).toThrow(RangeError);
  });
});
