import { describe, expect, it } from 'vitest';
import { checkFitsNetwork, type SampleSet } from './samples.js';

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
