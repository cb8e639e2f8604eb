import type { SampleSet } from '../shared/data/samples.js';
import { loadRows } from '../shared/data/samples.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { backpropSums } from '../shared/network/backprop.js';
import { outputSize, type ParamLayout, zeroParams } from '../shared/network/layout.js';
import { createWorkspace, ensureCapacity, layerViews, type LayerViews, type Workspace } from '../shared/network/workspace.js';
import type { BlockSum, Shard } from '../shared/protocol/messages.js';
import { combineTree, type NodeSum } from '../shared/reduction/combine.js';
import { alignedBlocks, chunkOffset, nodeKey } from '../shared/reduction/tree.js';

/**
 * Computes a shard: backprop over each chunk separately (one batched pass per chunk, so a chunk's sum never depends
 * on which worker computed it), then the chunk sums added along the fixed tree into one sum per aligned block.
 * Buffers are reused from shard to shard; the returned arrays are valid until the next call.
 */
export class ShardComputer {
  private workspace: Workspace;
  private readonly leaves: LayerViews[] = [];

  constructor(private readonly layout: ParamLayout, private readonly gemm: Gemm) {
    this.workspace = createWorkspace(layout, 16);
  }

  compute(replica: LayerViews, shard: Shard): BlockSum[] {
    const { batchSize: m, chunks, chunkStart, chunkEnd } = shard;
    const nOut = outputSize(this.layout);
    const base = chunkOffset(m, chunks, chunkStart);
    const samples: SampleSet = {
      count: chunkOffset(m, chunks, chunkEnd) - base,
      inputSize: this.layout.sizes[0],
      x: shard.x, xDivisor: shard.xDivisor, labels: shard.labels, y: shard.y, targetSize: nOut,
    };
    const leafSums = new Map<string, NodeSum>();
    for (let c = chunkStart; c < chunkEnd; c++) {
      const from = chunkOffset(m, chunks, c) - base;
      const rows = chunkOffset(m, chunks, c + 1) - base - from;
      this.workspace = ensureCapacity(this.workspace, rows);
      const leaf = this.leaf(c - chunkStart);
      loadRows(samples, null, from, rows, this.workspace.activations[0], this.workspace.targets, nOut);
      const cost = backpropSums(this.gemm, replica, this.workspace, rows, leaf);
      leafSums.set(nodeKey({ level: 0, index: c }), { cost, nablaW: leaf.params.weights, nablaB: leaf.params.biases });
    }
    return alignedBlocks(chunkStart, chunkEnd).map((node) => ({ ...node, ...combineTree(node, chunks, leafSums) }));
  }

  private leaf(i: number): LayerViews {
    while (this.leaves.length <= i) this.leaves.push(layerViews(this.layout, zeroParams(this.layout)));
    return this.leaves[i];
  }
}
