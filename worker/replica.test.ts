import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { gatherSamples } from '../shared/data/samples.js';
import { DTYPES } from '../shared/kernel/dtype.js';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { paramsIn, type Params } from '../shared/network/layout.js';
import { sgdStep } from '../shared/network/sgd.js';
import { layerViews } from '../shared/network/workspace.js';
import { PROTOCOL_VERSION, type Shard, type ShardData } from '../shared/protocol/messages.js';
import { combineTree, type NodeSum } from '../shared/reduction/combine.js';
import { alignedBlocks, chunkCount, nodeKey, rootNode } from '../shared/reduction/tree.js';
import { randomProblem } from '../test/support/random-problem.js';
import { ShardComputer } from './compute.js';
import { Replica } from './replica.js';

const sizes = [6, 5, 3];
const copyParams = (params: Params): Params => ({ weights: params.weights.slice(), biases: params.biases.slice() });

function wholeBatch(samples: ReturnType<typeof randomProblem>['samples'], m: number, chunks: number): Shard & ShardData {
  const batch = gatherSamples(samples, null, 0, m);
  return {
    type: 'shard', v: PROTOCOL_VERSION, step: 4, shardId: 1, version: 4, batchSize: m, chunks, chunkStart: 0, chunkEnd: chunks,
    x: batch.x, xDivisor: batch.xDivisor, labels: batch.labels, y: null,
  };
}

describe.each(DTYPES)('a worker replica applying updates itself, in %s', (dtype) => {
  test.prop([fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 12 }), fc.double({ min: 0.01, max: 5, noNaN: true }), fc.nat(3)], { numRuns: 40 })(
    "reaches the coordinator's parameters bit for bit, and the same fingerprint (several blocks when the chunk count is not a power of two)",
    (seed, m, maxChunks, eta, lambda) => {
      const { layout, params, samples } = randomProblem(seed, sizes, m);
      const chunks = chunkCount(m, maxChunks);
      const shard = wholeBatch(samples, m, chunks);
      const update = { eta, lambda, n: 1000, version: 5 };

      // The coordinator: the float64 master, the worker's blocks added along the tree, sgdStep.
      const coordinator = copyParams(params);
      const blocks = new ShardComputer(layout, jsGemm, 'quadratic', dtype).compute(layerViews(layout, paramsIn(params, dtype)), shard, shard);
      expect(blocks.map(nodeKey)).toEqual(alignedBlocks(0, chunks).map(nodeKey));
      const copies = new Map(blocks.map((block): [string, NodeSum] => [nodeKey(block), { cost: block.cost, nablaW: block.nablaW.slice(), nablaB: block.nablaB.slice() }]));
      const sum = combineTree(rootNode(chunks), chunks, copies);
      const fingerprint = sgdStep(coordinator, { weights: sum.nablaW, biases: sum.nablaB }, eta, m, lambda, update.n);

      // The worker: given the master (float64 arrays, also in a float32 job), computes and updates itself.
      const replica = new Replica(layout, jsGemm, 'quadratic', dtype);
      replica.receive(4, params.weights, params.biases);
      expect(replica.masterVersion).toBe(4);
      const own = replica.computer.compute(replica.views, shard, shard);
      replica.applyOwnUpdate(update, m, chunks, own, jsGemm);

      expect(replica.version).toBe(5);
      expect(replica.masterVersion).toBe(5);
      expect(replica.ownSum).toBe(fingerprint);
      const expected = paramsIn(coordinator, dtype);
      expect(replica.views.params.weights).toEqual(expected.weights);
      expect(replica.views.params.biases).toEqual(expected.biases);
    },
  );
});

describe('Replica', () => {
  const { layout, params } = randomProblem(3, sizes, 1);

  it('in a float32 job, takes float32 parameters without touching its float64 ones, and cannot update from them', () => {
    const replica = new Replica(layout, jsGemm, 'quadratic', 'float32');
    const rounded = paramsIn(params, 'float32');
    replica.receive(2, rounded.weights, rounded.biases);
    expect(replica.version).toBe(2);
    expect(replica.masterVersion).toBe(-1);
    expect(() => replica.applyOwnUpdate({ eta: 1, lambda: 0, n: 1, version: 3 }, 1, 1, [], jsGemm)).toThrow('no float64 parameters of v2 to update');
    replica.receive(3, params.weights, params.biases);
    expect(replica.masterVersion).toBe(3);
    expect(replica.views.params.weights).toEqual(paramsIn(params, 'float32').weights);
    replica.receive(4, rounded.weights, rounded.biases);
    expect([replica.version, replica.masterVersion]).toEqual([4, 3]);
  });

  it('drops its own fingerprint when the coordinator sends parameters, and holds nothing usable after a diverging update', () => {
    const { samples } = randomProblem(3, sizes, 4);
    const replica = new Replica(layout, jsGemm, 'quadratic', 'float64');
    replica.receive(0, params.weights, params.biases);
    const shard = wholeBatch(samples, 4, 2);
    replica.applyOwnUpdate({ eta: 1, lambda: 0, n: 1, version: 1 }, 4, 2, replica.computer.compute(replica.views, shard, shard), jsGemm);
    expect(replica.ownSum).toEqual(expect.any(Number));
    replica.receive(1, params.weights, params.biases);
    expect(replica.ownSum).toBeNull();
    replica.applyOwnUpdate({ eta: 1e308, lambda: 0, n: 1, version: 2 }, 1e-300, 2, replica.computer.compute(replica.views, shard, shard), jsGemm);
    expect([replica.version, replica.masterVersion, replica.ownSum]).toEqual([-1, -1, null]);
  });

  it('is kept for a rejoin to the same job and replaced for another one', () => {
    const replica = new Replica(layout, jsGemm, 'quadratic', 'float64');
    expect(Replica.forJob(replica, sizes, jsGemm, 'quadratic', 'float64')).toBe(replica);
    expect(Replica.forJob(replica, sizes, jsGemm, 'quadratic', 'float32')).not.toBe(replica);
    expect(Replica.forJob(replica, sizes, jsGemm, 'cross-entropy', 'float64')).not.toBe(replica);
    expect(Replica.forJob(replica, [6, 4, 3], jsGemm, 'quadratic', 'float64')).not.toBe(replica);
    expect(Replica.forJob(null, sizes, jsGemm, 'quadratic', 'float64')).toBeInstanceOf(Replica);
  });
});
