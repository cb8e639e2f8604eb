import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DTYPES, newFloats } from '../kernel/dtype.js';
import { checkFitsNetwork, loadRows, type InputArray, type SampleSet } from './samples.js';

const set: SampleSet = {
  count: 2, inputSize: 3, x: new Uint8Array(6), xDivisor: 255, labels: Uint16Array.of(0, 4), y: null, targetSize: 5,
};

describe('checkFitsNetwork', () => {
  it('accepts a set whose input width and labels fit the network', () => {
    expect(() => checkFitsNetwork(set, 3, 5, 'data.csv')).not.toThrow();
  });

  it('rejects a wrong input width and suggests the --sizes to use', () => {
    expect(() => checkFitsNetwork(set, 784, 10, 'data.csv')).toThrow(
      'data.csv has 3 inputs per sample but --sizes starts with 784; use --sizes 3,…,10',
    );
  });

  it('rejects a label that the output layer cannot represent', () => {
    expect(() => checkFitsNetwork(set, 3, 4, 'data.csv')).toThrow(/sample 2 has label 4, but the output layer has only 4 neurons/);
    // A block of a stream names the sample by its place in the whole source, counting from 1 (as nabla eval does).
    expect(() => checkFitsNetwork(set, 3, 4, 'data.csv', 1000)).toThrow(/data.csv: sample 1002 has label 4/);
  });
});

describe('loadRows', () => {
  const inputs = fc.oneof(
    fc.uint8Array({ minLength: 12, maxLength: 12 }),
    fc.uint16Array({ minLength: 12, maxLength: 12 }),
    fc.float64Array({ minLength: 12, maxLength: 12, noNaN: true }).map((x) => x as InputArray),
  );
  test.prop([inputs, fc.constantFrom(255, 1000, 1, 3, 0.1), fc.constantFrom(...DTYPES), fc.boolean()], { numRuns: 60 })(
    'gives every input x / xDivisor and one-hot targets, for consecutive or indexed rows, in either float type',
    (x, xDivisor, dtype, indexed) => {
      const samples: SampleSet = { count: 4, inputSize: 3, x, xDivisor, labels: Uint16Array.of(1, 0, 2, 1), y: null, targetSize: 3 };
      const indices = indexed ? Uint32Array.of(3, 0, 2, 1) : null;
      const xOut = newFloats(dtype, 9), yOut = newFloats(dtype, 9);
      loadRows(samples, indices, 1, 3, xOut, yOut, 3);
      const rows = indices ? [0, 2, 1] : [1, 2, 3];
      const expectedX = newFloats(dtype, 9), expectedY = newFloats(dtype, 9);
      rows.forEach((sample, r) => {
        for (let k = 0; k < 3; k++) expectedX[r * 3 + k] = x[sample * 3 + k] / xDivisor;
        expectedY[r * 3 + (samples.labels as Uint16Array)[sample]] = 1;
      });
      expect(xOut).toEqual(expectedX);
      expect(yOut).toEqual(expectedY);
    },
  );
});
