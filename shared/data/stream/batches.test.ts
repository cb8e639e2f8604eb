import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { SampleSet } from '../samples.js';
import { miniBatches } from './batches.js';
import { collect, concat } from './test-support.js';

/** Blocks of the given sizes whose samples are numbered on from `first`: input i, label i % 5. */
async function* numberedBlocks(sizes: number[]): AsyncGenerator<SampleSet> {
  let next = 0;
  for (const size of sizes) {
    const x = Float64Array.from({ length: size }, (_, r) => next + r);
    const labels = Uint16Array.from({ length: size }, (_, r) => (next + r) % 5);
    next += size;
    yield { count: size, inputSize: 1, x, xDivisor: 1, labels, y: null, targetSize: 5 };
  }
}

describe('miniBatches', () => {
  test.prop([fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 12 }), fc.integer({ min: 1, max: 30 })])(
    'regroups any blocks into full batches and one shorter last batch, keeping every sample in order',
    async (sizes, batch) => {
      const total = sizes.reduce((a, b) => a + b, 0);
      const batches = await collect(miniBatches(numberedBlocks(sizes), batch));
      expect(batches.map((b) => b.count)).toEqual([
        ...Array<number>(Math.floor(total / batch)).fill(batch),
        ...(total % batch > 0 ? [total % batch] : []),
      ]);
      expect(batches.every((b) => b.x.length === b.count && b.labels?.length === b.count)).toBe(true);
      if (total > 0) {
        const all = concat(batches);
        expect(Array.from(all.x)).toEqual(Array.from({ length: total }, (_, i) => i));
        expect(Array.from(all.labels as Uint16Array)).toEqual(Array.from({ length: total }, (_, i) => i % 5));
      }
    },
  );

  it('gives batches that own their arrays', async () => {
    const batches = await collect(miniBatches(numberedBlocks([4, 4]), 4));
    expect(batches[0].x.buffer).not.toBe(batches[1].x.buffer);
    batches[0].x.fill(-1);
    expect(Array.from(batches[1].x)).toEqual([4, 5, 6, 7]);
  });

  it('gives nothing for an empty stream and rejects a batch size below 1', async () => {
    expect(await collect(miniBatches(numberedBlocks([]), 3))).toEqual([]);
    await expect(collect(miniBatches(numberedBlocks([1]), 0))).rejects.toThrow('the mini-batch size must be a whole number of at least 1, got 0');
  });
});
