import { describe, expect, it } from 'vitest';
import { initParams } from './init.js';
import { createLayout } from './layout.js';

describe('initParams', () => {
  const layout = createLayout([784, 100, 10]);

  it("scaled draws the standard numbers and divides each layer's weights by √n_in (biases unchanged)", () => {
    const standard = initParams(layout, 42, 'standard');
    const scaled = initParams(layout, 42, 'scaled');
    expect(Array.from(scaled.biases)).toEqual(Array.from(standard.biases));
    const expected = standard.weights.slice();
    for (const { nIn, nOut, wOffset } of layout.layers) {
      for (let i = wOffset; i < wOffset + nIn * nOut; i++) expected[i] *= 1 / Math.sqrt(nIn);
    }
    expect(scaled.weights).toEqual(expected);
  });

  it('gives weights of variance 1 (standard) and 1/n_in (scaled), biases of variance 1', () => {
    const variance = (values: Float64Array): number => {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      return values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    };
    const { layers } = layout;
    const standard = initParams(layout, 7, 'standard');
    const scaled = initParams(layout, 7, 'scaled');
    const firstLayer = (weights: Float64Array) => weights.subarray(0, layers[0].nIn * layers[0].nOut);
    expect(variance(firstLayer(standard.weights))).toBeCloseTo(1, 1);
    expect(variance(firstLayer(scaled.weights)) * 784).toBeCloseTo(1, 1);
    expect(variance(scaled.biases)).toBeGreaterThan(0.7);
    expect(variance(scaled.biases)).toBeLessThan(1.3);
  });
});
