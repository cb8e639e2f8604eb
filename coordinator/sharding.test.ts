import { describe, expect, it } from 'vitest';
import { splitChunks } from './sharding.js';

describe('splitChunks', () => {
  it('splits evenly among equal workers', () => {
    expect(splitChunks(0, 8, [1, 1])).toEqual([[0, 4], [4, 8]]);
    expect(splitChunks(0, 8, [1, 1, 1])).toEqual([[0, 3], [3, 5], [5, 8]]);
  });
  it('sizes ranges by speed, with at least one chunk each', () => {
    expect(splitChunks(0, 8, [3, 1])).toEqual([[0, 6], [6, 8]]);
    expect(splitChunks(0, 4, [100, 1, 1])).toEqual([[0, 2], [2, 3], [3, 4]]);
  });
  it('leaves extra workers idle when there are more workers than chunks', () => {
    expect(splitChunks(2, 4, [1, 1, 1])).toEqual([[2, 3], [3, 4], null]);
  });
});
