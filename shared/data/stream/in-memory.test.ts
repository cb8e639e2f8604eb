import { describe, expect, it } from 'vitest';
import type { SampleSet } from '../samples.js';
import { memorySource, readAll } from './in-memory.js';
import type { DataSource } from './source.js';
import { collect } from './test-support.js';

/** `count` samples of 3 Float32 inputs (i, -i, 2i) and labels i % 7. */
function numbered(count: number): SampleSet {
  const x = new Float32Array(count * 3);
  const labels = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    x.set([i, -i, 2 * i], 3 * i);
    labels[i] = i % 7;
  }
  return { count, inputSize: 3, x, xDivisor: 4, labels, y: null, targetSize: 7 };
}

/** A source that doesn't know its count, giving `set` in blocks of the given sizes. */
function uncounted(set: SampleSet, sizes: number[]): DataSource {
  return {
    ...memorySource(set, 'uncounted'),
    count: null,
    async *blocks() {
      let from = 0;
      for (const size of sizes) {
        yield sliceOf(set, from, size);
        from += size;
      }
    },
  };
}

function sliceOf(set: SampleSet, from: number, count: number): SampleSet {
  return { ...set, count, x: set.x.slice(from * 3, (from + count) * 3), labels: (set.labels as Uint16Array).slice(from, from + count) };
}

describe('memorySource', () => {
  it('gives compact copies in blocks of at most blockRows, in order', async () => {
    const set = numbered(10);
    const blocks = await collect(memorySource(set, 'ten').blocks(4));
    expect(blocks.map((b) => b.count)).toEqual([4, 4, 2]);
    expect(blocks[2]).toEqual({ count: 2, inputSize: 3, x: Float32Array.of(8, -8, 16, 9, -9, 18), xDivisor: 4, labels: Uint16Array.of(1, 2), y: null, targetSize: 7 });
    expect(blocks[0].x.buffer).not.toBe(set.x.buffer);
  });

  it('rejects a block size that is not a whole number of at least 1', async () => {
    await expect(collect(memorySource(numbered(3), 'three').blocks(0))).rejects.toThrow('blockRows must be a whole number of at least 1, got 0');
  });
});

describe('readAll', () => {
  it('collects a counted source into the set it came from', async () => {
    const set = numbered(10000);
    expect(await readAll(memorySource(set, 'counted'))).toEqual(set);
  });

  it('grows geometrically when the count is unknown and trims to the rows read', async () => {
    const set = numbered(20000);
    const all = await readAll(uncounted(set, [1, 5000, 3, 9000, 5996]));
    expect(all).toEqual(set);
    expect(all.x.length).toBe(60000);
  });

  it('gives an empty set for a source without samples', async () => {
    const all = await readAll(memorySource(numbered(0), 'none'));
    expect(all.count).toBe(0);
    expect(all.x.length).toBe(0);
  });
});
