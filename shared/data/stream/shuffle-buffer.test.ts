import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { gatherSamples, type SampleSet } from '../samples.js';
import { memorySource } from './in-memory.js';
import { shuffleBuffer } from './shuffle-buffer.js';
import { collect, concat } from './test-support.js';

/** Sample i has inputs (i, -i) and label i % 7 (or target vector (i % 7, 1)), so every row can be recognised. */
function numbered(count: number, hasLabels = true): SampleSet {
  const x = new Float64Array(count * 2);
  const labels = hasLabels ? new Uint16Array(count) : null;
  const y = hasLabels ? null : new Float64Array(count * 2);
  for (let i = 0; i < count; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
    if (labels) labels[i] = i % 7;
    if (y) y.set([i % 7, 1], 2 * i);
  }
  return { count, inputSize: 2, x, xDivisor: 1, labels, y, targetSize: hasLabels ? 7 : 2 };
}

/** The set cut into blocks of the given sizes (cycled), as a stream. */
async function* cut(set: SampleSet, sizes: number[]): AsyncGenerator<SampleSet> {
  for (let i = 0, from = 0; from < set.count; i++) {
    const rows = Math.min(sizes[i % sizes.length], set.count - from);
    yield gatherSamples(set, null, from, rows);
    from += rows;
  }
}

/** The order in which the shuffled samples come out: the first input of each. */
async function orderOf(blocks: AsyncIterable<SampleSet>): Promise<number[]> {
  const out = await collect(blocks);
  if (out.length === 0) return [];
  const all = concat(out);
  return Array.from({ length: all.count }, (_, r) => all.x[2 * r]);
}

describe('shuffleBuffer', () => {
  test.prop([
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 1, max: 400 }),
    fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }),
    fc.integer({ min: 1, max: 64 }),
    fc.boolean(),
  ])('emits every sample exactly once, whole, in blocks of at most blockRows', async (count, capacity, seed, sizes, blockRows, hasLabels) => {
    const blocks = await collect(shuffleBuffer(cut(numbered(count, hasLabels), sizes), capacity, new Rng(seed), blockRows));
    expect(blocks.every((b) => b.count >= 1 && b.count <= blockRows)).toBe(true);
    expect(blocks.slice(0, -1).every((b) => b.count === blockRows)).toBe(true);
    const seen = new Uint8Array(count);
    for (const block of blocks) {
      for (let r = 0; r < block.count; r++) {
        const i = block.x[2 * r];
        expect(block.x[2 * r + 1]).toBe(-i);
        if (hasLabels) expect(block.labels?.[r]).toBe(i % 7);
        else expect([block.y?.[2 * r], block.y?.[2 * r + 1]]).toEqual([i % 7, 1]);
        seen[i]++;
      }
    }
    expect(seen.every((times) => times === 1)).toBe(true);
  });

  test.prop([
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 1, max: 400 }),
    fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }),
    fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }),
  ])('gives the same order for the same seed, however the input is cut', async (count, capacity, seed, sizesA, sizesB) => {
    const set = numbered(count);
    const a = await orderOf(shuffleBuffer(cut(set, sizesA), capacity, new Rng(seed), 7));
    const b = await orderOf(shuffleBuffer(cut(set, sizesB), capacity, new Rng(seed), 13));
    expect(a).toEqual(b);
  });

  it('continues the same sequence from a saved rng state', async () => {
    const rng = new Rng(99);
    rng.nextUint32();
    const saved = rng.state();
    const set = numbered(500);
    const a = await orderOf(shuffleBuffer(cut(set, [64]), 50, rng));
    const b = await orderOf(shuffleBuffer(cut(set, [64]), 50, new Rng(saved)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(await orderOf(shuffleBuffer(cut(set, [64]), 50, new Rng(100))));
  });

  it('is a Fisher–Yates shuffle of the whole stream when the capacity holds it all', async () => {
    const order = Uint32Array.from({ length: 200 }, (_, i) => i);
    new Rng(5).shuffle(order);
    expect(await orderOf(shuffleBuffer(cut(numbered(200), [30]), 200, new Rng(5)))).toEqual(Array.from(order));
  });

  it('keeps the stored order with a capacity of 1', async () => {
    expect(await orderOf(shuffleBuffer(cut(numbered(50), [8]), 1, new Rng(3)))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('mixes: with a buffer of 1000, the first 1000 outputs come from all over the first few thousand', async () => {
    const order = await orderOf(shuffleBuffer(cut(numbered(20000), [4096]), 1000, new Rng(11)));
    const firstThousand = order.slice(0, 1000);
    expect(Math.min(...firstThousand)).toBeLessThan(20);
    expect(Math.max(...firstThousand)).toBeGreaterThan(1500);
    expect(firstThousand.filter((i, k) => i === k).length).toBeLessThan(20);
  });

  it('keeps the storage type and a running target size', async () => {
    const set: SampleSet = { count: 3, inputSize: 1, x: Uint8Array.of(1, 2, 3), xDivisor: 255, labels: Uint16Array.of(0, 1, 2), y: null, targetSize: 10 };
    const blocks = await collect(shuffleBuffer(memorySource(set, 'bytes').blocks(), 2, new Rng(1)));
    expect(blocks[0].x.constructor).toBe(Uint8Array);
    expect(blocks[0].xDivisor).toBe(255);
    expect(blocks[0].targetSize).toBe(10);
  });

  it('rejects blocks stored differently from the first', async () => {
    async function* mixed(): AsyncGenerator<SampleSet> {
      yield numbered(2);
      yield { ...numbered(2), x: Float32Array.of(1, 2, 3, 4) };
    }
    await expect(collect(shuffleBuffer(mixed(), 4, new Rng(1)))).rejects.toThrow(
      'shuffleBuffer: a block is stored differently from the first one (x Float32Array vs Float64Array)',
    );
  });

  it('rejects a capacity below 1', async () => {
    await expect(collect(shuffleBuffer(cut(numbered(2), [1]), 0, new Rng(1)))).rejects.toThrow(
      'the shuffle buffer capacity must be a whole number of at least 1, got 0',
    );
  });
});
