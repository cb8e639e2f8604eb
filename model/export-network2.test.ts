import { describe, expect, it } from 'vitest';
import { createLayout } from '../shared/network/layout.js';
import { modelFromJson } from '../shared/network/model-file.js';
import { randomProblem } from '../test/support/random-problem.js';
import { network2Json } from './export-network2.js';

describe('the network2.py JSON export', () => {
  it('writes weights[l] as sizes[l+1] rows of sizes[l] numbers and biases[l] as a column vector', () => {
    const layout = createLayout([3, 2, 1]);
    const params = { weights: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8), biases: Float64Array.of(0.5, -0.5, 9) };
    expect(network2Json(layout, params, 'cross-entropy')).toEqual({
      sizes: [3, 2, 1],
      weights: [[[1, 2, 3], [4, 5, 6]], [[7, 8]]],
      biases: [[[0.5], [-0.5]], [[9]]],
      cost: 'CrossEntropyCost',
    });
    expect(network2Json(layout, params, 'quadratic').cost).toBe('QuadraticCost');
  });

  it('reads back through our model-file reader to the same bits and cost', () => {
    const { layout, params } = randomProblem(5, [6, 4, 3], 1);
    const text = JSON.stringify(network2Json(layout, params, 'cross-entropy'));
    const back = modelFromJson(JSON.parse(text), 'network.json');
    expect(back.layout.sizes).toEqual([6, 4, 3]);
    expect(back.params.weights).toEqual(params.weights);
    expect(back.params.biases).toEqual(params.biases);
    expect(back.cost).toBe('cross-entropy');
  });
});
