import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { gatherSamples } from '../shared/data/samples.js';
import { DTYPES } from '../shared/kernel/dtype.js';
import { paramsIn } from '../shared/network/layout.js';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { layerViews } from '../shared/network/workspace.js';
import { PROTOCOL_VERSION, type BlockSum, type Shard, type ShardData } from '../shared/protocol/messages.js';
import { combineTree, type NodeSum } from '../shared/reduction/combine.js';
import { chunkCount, chunkOffset, nodeKey, rootNode } from '../shared/reduction/tree.js';
import { randomProblem } from '../test/support/random-problem.js';
import { ShardComputer } from './compute.js';

/** Cut points that split [0, chunks) into contiguous ranges, as any number of workers might get them. */
const splits = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 10 });

function shardOf(samples: ReturnType<typeof randomProblem>['samples'], m: number, chunks: number, start: number, end: number): Shard & ShardData {
  const offset = chunkOffset(m, chunks, start);
  const block = gatherSamples(samples, null, offset, chunkOffset(m, chunks, end) - offset);
  return {
    type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 0, version: 0, batchSize: m, chunks, chunkStart: start, chunkEnd: end,
    x: block.x, xDivisor: block.xDivisor, labels: block.labels, y: null,
  };
}

function copy(block: BlockSum): NodeSum {
  return { cost: block.cost, nablaW: block.nablaW.slice(), nablaB: block.nablaB.slice() };
}

describe.each(DTYPES)('ShardComputer with the fixed reduction tree, in %s', (dtype) => {
  test.prop([fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 16 }), splits], { numRuns: 60 })(
    'gives bit-identical sums however the chunks are split among workers',
    (seed, m, maxChunks, cuts) => {
      const { layout, params, samples } = randomProblem(seed, [6, 5, 3], m);
      const chunks = chunkCount(m, maxChunks);
      const replica = layerViews(layout, paramsIn(params, dtype));
      const reduce = (boundaries: number[]): NodeSum => {
        const sums = new Map<string, NodeSum>();
        for (let i = 0; i + 1 < boundaries.length; i++) {
          // A fresh computer per range, as on a different worker.
          const shard = shardOf(samples, m, chunks, boundaries[i], boundaries[i + 1]);
          const blocks = new ShardComputer(layout, jsGemm, 'quadratic', dtype).compute(replica, shard, shard);
          for (const block of blocks) sums.set(nodeKey(block), copy(block));
        }
        return combineTree(rootNode(chunks), chunks, sums);
      };
      const single = reduce([0, chunks]);
      const points = [...new Set(cuts.map((c) => c % chunks).filter((c) => c > 0))].sort((a, b) => a - b);
      const split = reduce([0, ...points, chunks]);
      expect(Buffer.from(split.nablaW.buffer).equals(Buffer.from(single.nablaW.buffer))).toBe(true);
      expect(Buffer.from(split.nablaB.buffer).equals(Buffer.from(single.nablaB.buffer))).toBe(true);
      expect(split.cost).toBe(single.cost);
      expect(split.nablaW).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
    },
  );
});
