import type { Gradients, Shard } from '../shared/protocol/messages.js';
import { ProtocolError } from '../shared/protocol/errors.js';
import { combineTree, type NodeSum, type VectorAdd } from '../shared/reduction/combine.js';
import { alignedBlocks, nodeKey, rootNode } from '../shared/reduction/tree.js';
import { splitChunks } from './sharding.js';

/** What a step needs from the cluster: who can compute, and how to send them work. */
export interface StepHost {
  /** The current ready workers; callers must not modify the returned array. */
  readyWorkers(): readonly StepWorker[];
  /**
   * The ready workers new shards go to (the step's fan-out, see fan-out.ts): never empty while a worker is ready.
   * Callers must not modify the returned array.
   */
  stepWorkers(): readonly StepWorker[];
  /**
   * Sends a shard of chunks [start, end): with its samples, or without them when `isPrefetched` (the worker holds
   * them already). Returns false if the worker could not be reached.
   */
  sendShard(worker: StepWorker, shard: ShardTag, isPrefetched: boolean): boolean;
  /** Called when no worker is connected while work is pending. */
  onStarved(): void;
}

/** A shard's identity and place, without its samples. */
export type ShardTag = Omit<Shard, 'x' | 'xDivisor' | 'labels' | 'y' | 'type' | 'v'>;

/** A shard whose samples were sent ahead to a worker (see Cluster.prefetch). */
export interface PlannedShard {
  shardId: number;
  workerId: string;
  start: number;
  end: number;
}

export interface StepWorker {
  readonly id: string;
  /** Relative speed used to size its share of chunks. */
  readonly weight: number;
}

export interface StepResult {
  sum: NodeSum;
  /** Results dropped as duplicates, late or for a shard not (or no longer) theirs. */
  dropped: number;
  /** Shards sent again because their worker left. */
  reissued: number;
}

interface Outstanding {
  workerId: string;
  start: number;
  end: number;
  sentAtMs: number;
}

/**
 * One mini-batch in flight: shard the chunks over the ready workers, collect exactly one result per shard, re-issue
 * the shards of workers that leave, and reduce along the fixed tree when every chunk is covered.
 * Invariants: each chunk is covered by exactly one outstanding shard or one accepted result; a result is accepted
 * only from the worker the shard was sent to, only once, and only for this step.
 */
export class StepRun {
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly received = new Map<string, NodeSum>();
  private readonly pending: Array<[number, number]> = [];
  private dropped = 0;
  private reissued = 0;
  private settle!: (result: StepResult) => void;
  readonly done: Promise<StepResult>;

  constructor(
    private readonly host: StepHost,
    readonly step: number,
    readonly version: number,
    readonly batchSize: number,
    readonly chunks: number,
    private nextShardId: () => number,
    /** Adds the workers' block sums along the tree (any kernel gives the same bits; BLAS is 10× the JS loop). */
    private readonly kernel: VectorAdd,
    private planned: PlannedShard[] = [],
  ) {
    this.done = new Promise((resolve) => { this.settle = resolve; });
    if (planned.length === 0) this.pending.push([0, chunks]);
  }

  /**
   * Hands out work: first the prefetched shards to the workers holding their samples (or, for a worker that has
   * left since, back to pending), then pending chunk ranges to the ready workers. Called once to start, then
   * whenever a worker joins or leaves.
   */
  dispatch(): void {
    for (const shard of this.planned.splice(0)) {
      const worker = this.host.readyWorkers().find((candidate) => candidate.id === shard.workerId);
      this.outstanding.set(shard.shardId, { workerId: shard.workerId, start: shard.start, end: shard.end, sentAtMs: Date.now() });
      if (!worker || !this.host.sendShard(worker, this.tag(shard.shardId, shard.start, shard.end), true)) this.requeue(shard.shardId);
    }
    while (this.pending.length > 0) {
      const workers = this.host.stepWorkers();
      if (workers.length === 0) {
        this.host.onStarved();
        return;
      }
      const [start, end] = this.pending.shift() as [number, number];
      const ranges = splitChunks(start, end, workers.map((w) => w.weight));
      ranges.forEach((range, i) => {
        if (!range) return;
        const shardId = this.nextShardId();
        this.outstanding.set(shardId, { workerId: workers[i].id, start: range[0], end: range[1], sentAtMs: Date.now() });
        if (!this.host.sendShard(workers[i], this.tag(shardId, range[0], range[1]), false)) this.requeue(shardId);
      });
    }
  }

  private tag(shardId: number, chunkStart: number, chunkEnd: number): ShardTag {
    return { step: this.step, shardId, version: this.version, batchSize: this.batchSize, chunks: this.chunks, chunkStart, chunkEnd };
  }

  holdsShard(workerId: string): boolean {
    for (const shard of this.outstanding.values()) if (shard.workerId === workerId) return true;
    return false;
  }

  /** Workers holding a shard sent more than `timeoutMs` ago: alive (they answer pings) but not delivering. */
  overdueWorkers(nowMs: number, timeoutMs: number): string[] {
    return [...this.outstanding.values()].filter((shard) => nowMs - shard.sentAtMs > timeoutMs).map((shard) => shard.workerId);
  }

  /**
   * A result from `workerId`. Returns true when accepted, false when dropped (stale/duplicate); throws ProtocolError
   * when the result is wrong for its shard (its blocks do not match), so the caller can disconnect the worker.
   */
  onGradients(workerId: string, result: Gradients): boolean {
    const shard = this.outstanding.get(result.shardId);
    if (result.step !== this.step || !shard || shard.workerId !== workerId) {
      this.dropped++;
      return false;
    }
    if (result.version !== this.version) {
      throw new ProtocolError('bad-field', `gradients for step ${this.step} were computed on parameters v${result.version}, expected v${this.version}`);
    }
    const expected = alignedBlocks(shard.start, shard.end);
    const matches = expected.length === result.blocks.length &&
      expected.every((node, i) => node.level === result.blocks[i].level && node.index === result.blocks[i].index);
    if (!matches) {
      const got = result.blocks.map((b) => nodeKey(b)).join(' ');
      const want = expected.map(nodeKey).join(' ');
      throw new ProtocolError('bad-field', `shard ${result.shardId} (chunks ${shard.start}..${shard.end - 1}) needs blocks [${want}], got [${got}]`);
    }
    this.outstanding.delete(result.shardId);
    for (const block of result.blocks) this.received.set(nodeKey(block), block);
    this.finishIfComplete();
    return true;
  }

  /** A result the host would not take (on parameters other than the step's): counted with the dropped ones. */
  drop(): void {
    this.dropped++;
  }

  /** A worker is gone: whatever it still owed is computed by the others. */
  onWorkerLost(workerId: string): void {
    for (const [shardId, shard] of this.outstanding) if (shard.workerId === workerId) this.requeue(shardId);
    this.dispatch();
  }

  private requeue(shardId: number): void {
    const shard = this.outstanding.get(shardId);
    if (!shard) return;
    this.outstanding.delete(shardId);
    this.pending.push([shard.start, shard.end]);
    this.reissued++;
  }

  private finishIfComplete(): void {
    if (this.outstanding.size > 0 || this.pending.length > 0) return;
    const sum = combineTree(rootNode(this.chunks), this.chunks, this.received, this.kernel);
    this.settle({ sum, dropped: this.dropped, reissued: this.reissued });
  }
}
