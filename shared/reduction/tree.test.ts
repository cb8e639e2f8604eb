import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { alignedBlocks, chunkCount, chunkOffset, nodeRange, rootNode } from './tree.js';

describe('the fixed reduction tree', () => {
  it('cuts a mini-batch into min(m, maxChunks) chunks that differ in size by at most one', () => {
    expect(chunkCount(10, 8)).toBe(8);
    expect(chunkCount(3, 8)).toBe(3);
    const sizes = Array.from({ length: 8 }, (_, c) => chunkOffset(10, 8, c + 1) - chunkOffset(10, 8, c));
    expect(sizes.reduce((a, b) => a + b)).toBe(10);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('decomposes a range into maximal aligned blocks', () => {
    expect(alignedBlocks(0, 8)).toEqual([{ level: 3, index: 0 }]);
    expect(alignedBlocks(0, 3)).toEqual([{ level: 1, index: 0 }, { level: 0, index: 2 }]);
    expect(alignedBlocks(3, 8)).toEqual([{ level: 0, index: 3 }, { level: 2, index: 1 }]);
    expect(rootNode(5)).toEqual({ level: 3, index: 0 });
  });

  test.prop([fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 299 }), fc.integer({ min: 1, max: 300 })])(
    'aligned blocks tile their range exactly, in order',
    (chunks, a, b) => {
      const start = Math.min(a, chunks - 1);
      const end = Math.min(chunks, start + b);
      let cursor = start;
      for (const block of alignedBlocks(start, end)) {
        const [s, e] = nodeRange(block, chunks);
        expect(s).toBe(cursor);
        expect(block.index % 1).toBe(0);
        cursor = e;
      }
      expect(cursor).toBe(end);
    },
  );
});
