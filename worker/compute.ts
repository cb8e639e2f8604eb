import type { SampleSet } from '../shared/data/samples.js';
import { loadRows } from '../shared/data/samples.js';
import type { Dtype, Floats } from '../shared/kernel/dtype.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { backpropSums } from '../shared/network/backprop.js';
import type { CostName } from '../shared/network/cost.js';
import { outputSize, type ParamLayout, zeroParams } from '../shared/network/layout.js';
import { createWorkspace, ensureCapacity, layerViews, type LayerViews, type Workspace } from '../shared/network/workspace.js';
import type { BlockSum, ShardData } from '../shared/protocol/messages.js';

/** Which chunks of which mini-batch a shard covers. */
export interface ShardRange {
  batchSize: number;
  chunks: number;
  chunkStart: number;
  chunkEnd: number;
}
import { combineTree, type NodeSum } from '../shared/reduction/combine.js';
import { alignedBlocks, chunkOffset, nodeKey } from '../shared/reduction/tree.js';

/**
 * Computes a shard: backprop over each chunk separately (one batched pass per chunk, so a chunk's sum never depends
 * on which worker computed it), then the chunk sums added along the fixed tree into one sum per aligned block.
 * Buffers are reused from shard to shard; the returned arrays are valid until the next call.
 */
export class ShardComputer {
  private workspace: Workspace<Floats>;
  private readonly leaves: LayerViews<Floats>[] = [];

  /** `dtype` is the type the replica, the workspace and the sums are in (the job's --dtype). */
  constructor(readonly layout: ParamLayout, private readonly gemm: Gemm, readonly cost: CostName, readonly dtype: Dtype) {
    this.workspace = createWorkspace(layout, 16, dtype);
  }

  /** The block sums of chunks [chunkStart, chunkEnd) of a mini-batch, given their samples (replica of `dtype`). */
  compute(replica: LayerViews<Floats>, shard: ShardRange, data: ShardData): BlockSum[] {
    const { batchSize: m, chunks, chunkStart, chunkEnd } = shard;
    const nOut = outputSize(this.layout);
    const base = chunkOffset(m, chunks, chunkStart);
    const samples: SampleSet = {
      count: chunkOffset(m, chunks, chunkEnd) - base,
      inputSize: this.layout.sizes[0],
      x: data.x, xDivisor: data.xDivisor, labels: data.labels, y: data.y, targetSize: nOut,
    };
    const leafSums = new Map<string, NodeSum>();
    for (let c = chunkStart; c < chunkEnd; c++) {
      const from = chunkOffset(m, chunks, c) - base;
      const rows = chunkOffset(m, chunks, c + 1) - base - from;
      this.workspace = ensureCapacity(this.workspace, rows);
      const leaf = this.leaf(c - chunkStart);
      loadRows(samples, null, from, rows, this.workspace.activations[0], this.workspace.targets, nOut);
      const cost = backpropSums(this.gemm, replica, this.workspace, rows, leaf, this.cost);
      leafSums.set(nodeKey({ level: 0, index: c }), { cost, nablaW: leaf.params.weights, nablaB: leaf.params.biases });
    }
    return alignedBlocks(chunkStart, chunkEnd).map((node) => ({ ...node, ...combineTree(node, chunks, leafSums, this.gemm) }));
  }

  private leaf(i: number): LayerViews<Floats> {
    while (this.leaves.length <= i) this.leaves.push(layerViews(this.layout, zeroParams(this.layout, this.dtype)));
    return this.leaves[i];
  }
}
