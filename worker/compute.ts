import type { SampleSet } from '../shared/data/samples.js';
import { loadRows } from '../shared/data/samples.js';
import { newFloats, type Dtype, type Floats } from '../shared/kernel/dtype.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { backpropChunkSums } from '../shared/network/backprop.js';
import type { CostName } from '../shared/network/cost.js';
import { outputSize, type ParamLayout, zeroParams } from '../shared/network/layout.js';
import { bandCapacity, type WeightTree } from '../shared/network/weight-tree.js';
import { createWorkspace, ensureCapacity, layerViews, type LayerViews, type Workspace } from '../shared/network/workspace.js';
import type { BlockSum, ShardData } from '../shared/protocol/messages.js';
import { combineTree, type NodeSum } from '../shared/reduction/combine.js';
import { alignedBlocks, chunkOffset, nodeKey, nodeRange, type TreeNode } from '../shared/reduction/tree.js';
import { probePlan } from './plan-probe.js';

/** Which chunks of which mini-batch a shard covers. */
export interface ShardRange {
  batchSize: number;
  chunks: number;
  chunkStart: number;
  chunkEnd: number;
}

/**
 * How a worker computes the fixed chunks of a shard. The definition of the result is always the canonical plan:
 * each chunk its own batched pass, chunk sums added along the fixed tree. The others do less work for the same bits,
 * where the kernel allows it (probed at the first shard of each mini-batch size: plan-probe.ts):
 * - groupLevel ℓ > 0: every aligned block of up to 2^ℓ chunks runs its forward pass and BP2 as one batched pass
 *   (per-row products: the same bits when the GEMM rounds each row alike however many rows a call has, which
 *   OpenBLAS does for some shapes and not for others; where it does, this saves packing the weights again for every
 *   chunk, what a chunk of 16 rows spends most of its time on);
 * - accumulatePairs: the ∇w of an odd chunk is added onto its even sibling's by the GEMM itself (beta = 1), which is
 *   the tree's first addition when the GEMM adds its product to C with one rounding;
 * - bandValues > 0: each result block's ∇w is summed along the tree in bands of about that many values
 *   (weight-tree.ts), which stay in cache, instead of chunk by chunk over whole matrices and then block by block: the
 *   same bits when the GEMM gives a band of rows of a product the bits of the whole product.
 */
export interface ComputePlan {
  readonly groupLevel: number;
  readonly accumulatePairs: boolean;
  readonly bandValues: number;
}

export const CANONICAL_PLAN: ComputePlan = { groupLevel: 0, accumulatePairs: false, bandValues: 0 };

/**
 * Computes a shard: backprop over each chunk separately (so a chunk's sum never depends on which worker computed
 * it), then the chunk sums added along the fixed tree into one sum per aligned block.
 * Buffers are reused from shard to shard; the returned arrays are valid until the next call.
 */
export class ShardComputer {
  private workspace: Workspace<Floats>;
  private readonly leaves: LayerViews<Floats>[] = [];
  /** Scratch bands of the ∇w tree (weight-tree.ts), one per tree level below a block's, of bandScratchValues each. */
  private readonly bandScratch: Floats[] = [];
  private bandScratchValues = 0;
  /** The plan for each (batch size, chunks), probed on first use. */
  private readonly plans = new Map<string, ComputePlan>();

  /** `dtype` is the type the replica, the workspace and the sums are in (the job's --dtype). */
  constructor(readonly layout: ParamLayout, readonly gemm: Gemm, readonly cost: CostName, readonly dtype: Dtype) {
    this.workspace = createWorkspace(layout, 16, dtype);
  }

  /** The block sums of chunks [chunkStart, chunkEnd) of a mini-batch, given their samples (replica of `dtype`). */
  compute(replica: LayerViews<Floats>, shard: ShardRange, data: ShardData): BlockSum[] {
    return this.computeWith(this.planFor(shard.batchSize, shard.chunks), replica, shard, data);
  }

  /** The plan for mini-batches of `batchSize` in `chunks` on this kernel (plan-probe.ts), probed on first use. */
  planFor(batchSize: number, chunks: number): ComputePlan {
    const key = `${batchSize}/${chunks}`;
    let plan = this.plans.get(key);
    if (!plan) this.plans.set(key, (plan = probePlan(this.gemm, this.layout, this.dtype, batchSize, chunks)));
    return plan;
  }

  /** The block sums of a shard computed by `plan` (the canonical one defines them; the others must equal it). */
  computeWith(plan: ComputePlan, replica: LayerViews<Floats>, shard: ShardRange, data: ShardData): BlockSum[] {
    const { batchSize: m, chunks, chunkStart, chunkEnd } = shard;
    const nOut = outputSize(this.layout);
    const base = chunkOffset(m, chunks, chunkStart);
    const samples: SampleSet = {
      count: chunkOffset(m, chunks, chunkEnd) - base,
      inputSize: this.layout.sizes[0],
      x: data.x, xDivisor: data.xDivisor, labels: data.labels, y: data.y, targetSize: nOut,
    };
    const leafSums = new Map<string, NodeSum>();
    // With bands, each result block is one backprop call whose ∇w is summed in bands over all its chunks (its forward
    // products and BP2 still run in passes of one group each); without, every group is a call of its own.
    const calls = plan.bandValues > 0 ? alignedBlocks(chunkStart, chunkEnd) : cappedBlocks(chunkStart, chunkEnd, plan.groupLevel);
    for (const call of calls) {
      const [first, end] = nodeRange(call, chunks);
      const from = chunkOffset(m, chunks, first) - base;
      const rows = chunkOffset(m, chunks, end) - base - from;
      this.workspace = ensureCapacity(this.workspace, rows);
      loadRows(samples, null, from, rows, this.workspace.activations[0], this.workspace.targets, nOut);
      const bounds: number[] = [], sums: LayerViews<Floats>[] = [], weightsTo: LayerViews<Floats>[] = [], addWeights: boolean[] = [];
      for (let c = first; c < end; c++) {
        const paired = plan.accumulatePairs && c % 2 === 1 && c - 1 >= chunkStart;
        bounds.push(chunkOffset(m, chunks, c) - base - from);
        sums.push(this.leaf(c - chunkStart));
        weightsTo.push(this.leaf(c - (paired ? 1 : 0) - chunkStart));
        addWeights.push(paired);
      }
      bounds.push(rows);
      const passes = [0, ...cappedBlocks(first, end, plan.groupLevel).map((group) => chunkOffset(m, chunks, nodeRange(group, chunks)[1]) - base - from)];
      const costs = new Array<number>(end - first).fill(0);
      const weightTree = plan.bandValues > 0 ? this.weightTree(plan, call.level, this.leaf(first - chunkStart).w) : undefined;
      backpropChunkSums(this.gemm, replica, this.workspace, { bounds, passes, sums, weightsTo, addWeights, costs, weightTree }, this.cost);
      if (weightTree) {
        // ∇w is the block's sum already; its cost and ∇b are added along the same tree, left + right.
        const chunkSums = new Map<string, NodeSum>();
        for (let c = first; c < end; c++) chunkSums.set(nodeKey({ level: 0, index: c }), { cost: costs[c - first], nablaW: NO_WEIGHTS[this.dtype], nablaB: sums[c - first].params.biases });
        const { cost, nablaB } = combineTree(call, chunks, chunkSums, this.gemm);
        leafSums.set(nodeKey(call), { cost, nablaB, nablaW: sums[0].params.weights });
        continue;
      }
      for (let c = first; c < end; c++) {
        const leaf = sums[c - first];
        const sum: NodeSum = { cost: costs[c - first], nablaW: leaf.params.weights, nablaB: leaf.params.biases };
        if (!addWeights[c - first]) {
          leafSums.set(nodeKey({ level: 0, index: c }), sum);
          continue;
        }
        // The tree's first addition, node (1, c/2) = chunk c−1 + chunk c: ∇w was added by the GEMM; cost and ∇b here.
        const left = leafSums.get(nodeKey({ level: 0, index: c - 1 })) as NodeSum;
        leafSums.delete(nodeKey({ level: 0, index: c - 1 }));
        left.cost += sum.cost;
        this.gemm.axpy(left.nablaB.length, 1, sum.nablaB, left.nablaB);
        leafSums.set(nodeKey({ level: 1, index: (c - 1) / 2 }), left);
      }
    }
    return alignedBlocks(chunkStart, chunkEnd).map((node) => ({ ...node, ...combineTree(node, chunks, leafSums, this.gemm) }));
  }

  /** The ∇w tree of a block at `level`, into `to`, with this computer's scratch bands (grown on first use). */
  private weightTree(plan: ComputePlan, level: number, to: readonly Floats[]): WeightTree<Floats> {
    const values = bandCapacity(this.layout.layers, plan.bandValues);
    if (values > this.bandScratchValues) {
      this.bandScratch.length = 0;
      this.bandScratchValues = values;
    }
    while (this.bandScratch.length < level) this.bandScratch.push(newFloats(this.dtype, values));
    return { level, pairs: plan.accumulatePairs, bandValues: plan.bandValues, scratch: this.bandScratch, to };
  }

  private leaf(i: number): LayerViews<Floats> {
    while (this.leaves.length <= i) this.leaves.push(layerViews(this.layout, zeroParams(this.layout, this.dtype)));
    return this.leaves[i];
  }
}

/** The ∇w of a leaf whose weights are summed elsewhere (the ∇w tree): the tree's additions of it are of no values. */
const NO_WEIGHTS: Record<Dtype, Floats> = { float64: new Float64Array(0), float32: new Float32Array(0) };

/** alignedBlocks(start, end), with every block above `maxLevel` cut into its aligned blocks of that level. */
function cappedBlocks(start: number, end: number, maxLevel: number): TreeNode[] {
  return alignedBlocks(start, end).flatMap((node) => {
    if (node.level <= maxLevel) return [node];
    const parts = 2 ** (node.level - maxLevel);
    return Array.from({ length: parts }, (_, i) => ({ level: maxLevel, index: node.index * parts + i }));
  });
}
