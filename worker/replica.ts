import type { Dtype, Floats } from '../shared/kernel/dtype.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import type { CostName } from '../shared/network/cost.js';
import { createLayout, type ParamLayout, type Params, zeroParams } from '../shared/network/layout.js';
import { sgdStep } from '../shared/network/sgd.js';
import { layerViews, type LayerViews } from '../shared/network/workspace.js';
import type { BlockSum, SelfUpdate } from '../shared/protocol/messages.js';
import { combineTree } from '../shared/reduction/combine.js';
import { nodeKey, rootNode } from '../shared/reduction/tree.js';
import { ShardComputer } from './compute.js';

/**
 * A worker's copy of the parameters, kept across reconnections to the same job: what it computes on (`views`, in the
 * job's type) and, to apply updates itself (messages.ts, Shard.update), the float64 master they round from — the
 * replica itself in a float64 job, a second copy in a float32 one.
 */
export class Replica {
  /** The parameter version `views` holds (-1: none usable). */
  version = 0;
  /** The version `master` holds (-1: none). */
  masterVersion = -1;
  /** sgdStep's fingerprint when `version` came from our own update (sent with our results), else null. */
  ownSum: number | null = null;
  readonly views: LayerViews<Floats>;
  readonly computer: ShardComputer;
  private master: Params | null;

  constructor(layout: ParamLayout, gemm: Gemm, cost: CostName, dtype: Dtype) {
    this.views = layerViews(layout, zeroParams(layout, dtype));
    this.computer = new ShardComputer(layout, gemm, cost, dtype);
    this.master = dtype === 'float64' ? this.views.params as Params : null;
  }

  /** The job's network, as the computer knows it (its cost and dtype too). */
  get layout(): ParamLayout {
    return this.computer.layout;
  }

  static forJob(previous: Replica | null, sizes: readonly number[], gemm: Gemm, cost: CostName, dtype: Dtype): Replica {
    const job = previous?.computer;
    const sameJob = job && job.layout.sizes.join() === sizes.join() && job.cost === cost && job.dtype === dtype;
    return previous && sameJob ? previous : new Replica(createLayout([...sizes]), gemm, cost, dtype);
  }

  /**
   * Takes the coordinator's parameters. Float64 arrays are its master (always so in a float64 job); into a float32
   * replica they round to nearest, exactly as the coordinator rounds its own copy.
   */
  receive(version: number, weights: Floats, biases: Floats): void {
    const { params } = this.views;
    params.weights.set(weights);
    params.biases.set(biases);
    if (weights instanceof Float64Array) {
      if (this.master !== params) {
        this.master ??= zeroParams(this.layout);
        this.master.weights.set(weights);
        this.master.biases.set(biases);
      }
      this.masterVersion = version;
    }
    this.version = version;
    this.ownSum = null;
  }

  /**
   * Applies a step's update to our master, from the block sums we computed for the whole mini-batch (added along
   * the same tree, with the same sgdStep, as the coordinator: the same bits), and moves the replica to
   * `update.version`. The blocks' arrays are summed into (they must have been sent already).
   */
  applyOwnUpdate(update: SelfUpdate, batchSize: number, chunks: number, blocks: readonly BlockSum[], gemm: Gemm): void {
    const master = this.master;
    if (!master || this.masterVersion !== this.version) throw new Error(`no float64 parameters of v${this.version} to update`);
    const sum = combineTree(rootNode(chunks), chunks, new Map(blocks.map((block) => [nodeKey(block), block])), gemm);
    // A float32 replica takes the new parameters' rounding in the update's own pass.
    const rounded = master === this.views.params ? undefined : this.views.params as Params<Float32Array>;
    const fingerprint = sgdStep(master, { weights: sum.nablaW, biases: sum.nablaB }, update.eta, batchSize, update.lambda, update.n, rounded);
    if (fingerprint === null) {
      // Diverged: the coordinator's identical update diverges too and ends the job; hold nothing usable meanwhile.
      this.version = this.masterVersion = -1;
      this.ownSum = null;
      return;
    }
    this.version = this.masterVersion = update.version;
    this.ownSum = fingerprint;
  }
}
