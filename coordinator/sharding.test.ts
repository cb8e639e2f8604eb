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
  it('puts a cut that falls between two boundaries on the better-aligned one (fewer tree blocks per worker)', () => {
    expect(splitChunks(0, 8, [0.55, 0.45])).toEqual([[0, 4], [4, 8]]); // ideal cut 4.4
    expect(splitChunks(0, 8, [0.58, 0.42])).toEqual([[0, 4], [4, 8]]); // 4.64: 4 is aligned, 5 is not
    expect(splitChunks(0, 8, [0.7, 0.3])).toEqual([[0, 6], [6, 8]]); // 5.6: 6 is nearest and aligned
    expect(splitChunks(0, 8, [0.65, 0.35])).toEqual([[0, 5], [5, 8]]); // 5.2: 4 is 1.2 away, too far to move
    expect(splitChunks(0, 8, [0.95, 0.05])).toEqual([[0, 7], [7, 8]]); // 7.6: 8 would leave nothing for the second
  });

  it('leaves extra workers idle when there are more workers than chunks', () => {
    expect(splitChunks(2, 4, [1, 1, 1])).toEqual([[2, 3], [3, 4], null]);
  });
});
