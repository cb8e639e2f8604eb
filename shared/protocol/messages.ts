/**
 * Every message that crosses the wire, in one place. Frames are msgpack (see codec.ts); numeric payloads travel as
 * typed arrays. Rule for `v`: a new optional field keeps the version; a rename, removal or change of meaning bumps it.
 */
import type { InputArray } from '../data/samples.js';
import type { Dtype, Floats } from '../kernel/dtype.js';
import type { CostName } from '../network/cost.js';
import type { ShmOffer } from './shm.js';
import type { StatusSnapshot } from './status.js';

/**
 * v2: the welcome names the cost (it changes what a worker's gradients mean). v3: `paramsSum`, the fingerprint of an
 * update, is summed in four interleaved partial sums (sgd.ts), no longer in one running sum.
 */
export const PROTOCOL_VERSION = 3;

type Envelope<T extends string> = { type: T; v: number };
/** Every shard and result is traceable and deduplicable by (step, shardId, version). */
type Tag = { step: number; shardId: number; version: number };

/**
 * First frame from a worker or a (read-only) monitor. A worker may offer its shared-memory lane (shm.ts): if the
 * coordinator can read it, both sides move large arrays through shared memory from the welcome on. A worker that
 * sets `appliesUpdates` can apply a step's update to its own replica (see Shard.update). `rounding`: the fingerprint
 * of how its kernel rounds (shared/kernel/rounding-probe.ts), 16 hex digits; workers of one kernel name can differ
 * in it (OpenBLAS on two CPU families). All three are optional.
 */
export type Hello = Envelope<'hello'> & {
  role: 'worker' | 'monitor'; name: string; kernel: string; rounding?: string; shm?: ShmOffer; appliesUpdates?: boolean;
};

/** The coordinator's answer: the job and the current parameters. */
export type Welcome = Envelope<'welcome'> & {
  workerId: string;
  /** How often the coordinator pings; a worker that hears nothing for several intervals reconnects. */
  pingIntervalMs: number;
  sizes: number[];
  /** The cost whose gradient workers compute (BP1 differs). */
  cost: CostName;
  /**
   * The type workers compute in, and so of `weights`/`biases` here and in `params`, and of every gradient they send.
   * Optional on the wire (absent: float64, what a coordinator without --dtype sends), always set once validated.
   */
  dtype: Dtype;
  version: number;
  weights: Floats;
  biases: Floats;
  /**
   * Optional: the coordinator's shared-memory lane, present only when it could read the lane the worker's hello
   * offered. Then `params` and `gradients` frames may hold shared-memory references on this link (the welcome never).
   */
  shm?: ShmOffer;
};

/**
 * New parameters after an update; every replica replaces its own with these, so all stay bit-identical. In a float32
 * job they may come as float64: the coordinator's master parameters, sent to a worker that will apply updates itself
 * (Shard.update); it keeps them and computes on their float32 rounding.
 */
export type ParamsUpdate = Envelope<'params'> & { version: number; weights: Floats; biases: Floats };

/**
 * The update rule of one step (sgd.ts), given to a worker that computes a whole mini-batch alone: after sending its
 * gradients it applies the step's update to its float64 parameters itself, exactly as the coordinator does, and
 * holds `version` from then on; no `params` frame follows.
 */
export type SelfUpdate = { eta: number; lambda: number; n: number; version: number };

/** The samples of chunks [chunkStart, chunkEnd) of a mini-batch, in order, in their stored type. */
export type ShardData = {
  x: InputArray;
  xDivisor: number;
  labels: Uint16Array | null;
  y: Float64Array | null;
};

/** Where a shard sits: chunks [chunkStart, chunkEnd) of the mini-batch of `batchSize` samples cut into `chunks`. */
type ChunkRange = { batchSize: number; chunks: number; chunkStart: number; chunkEnd: number };

/**
 * Work: compute chunks [chunkStart, chunkEnd) of the mini-batch of `batchSize` samples cut into `chunks` chunks
 * (see shared/reduction/tree.ts). The samples come inline, or — when `x` is null — they were sent ahead in a
 * `samples` message with the same shardId. `update` (optional; only on a shard of every chunk, to a worker whose
 * hello set appliesUpdates and which holds float64 parameters of `version`): apply the step's update afterwards.
 */
export type Shard = Envelope<'shard'> & Tag & ChunkRange & { update?: SelfUpdate } &
  (ShardData | { x: null; xDivisor: null; labels: null; y: null });

/**
 * Prefetch: the samples of a shard of a later step, sent while the current step computes. `update` (optional; only
 * for the whole mini-batch, to a worker whose hello set appliesUpdates): the update that step's shard will bring,
 * for version step + 1. A worker running ahead on its own updates may apply it as soon as it has sent that step's
 * result, and so run further ahead (see RESULTS_AHEAD).
 */
export type PrefetchedSamples = Envelope<'samples'> & { step: number; shardId: number; update?: SelfUpdate } & ChunkRange & ShardData;

/**
 * How many steps beyond the last shard it received a worker may have sent results for (computed ahead on its own
 * updates). Bounded because a worker's shared-memory lane reuses a slot RESULTS_AHEAD + 1 results later (shm.ts),
 * and the coordinator has surely read a worker's results only up to the step before the last shard it sent.
 */
export const RESULTS_AHEAD = 3;

/** The sum over one aligned tree node of the shard: Σ cost and Σ nabla (sums, not means). */
export type BlockSum = { level: number; index: number; cost: number; nablaW: Floats; nablaB: Floats };

/** A shard's result: one sum per aligned block of its chunk range, left to right. */
export type Gradients = Envelope<'gradients'> & Tag & {
  blocks: BlockSum[];
  computeMs: number;
  /** Optional: how long the worker, holding the step's parameters, waited for this shard's samples (0 if prefetched). */
  dataWaitMs?: number;
  /**
   * Optional: when the worker reached the shard's `version` by its own update (Shard.update), the fingerprint of its
   * float64 parameters that update returned (sgdStep). The coordinator drops the result if it did not take that
   * update up (it sends its own parameters instead), and refuses it unless the fingerprint equals its own.
   */
  paramsSum?: number;
};

/** The monitor feed: a snapshot of the cluster, sent to monitors once per interval. */
export type Status = Envelope<'status'> & { snapshot: StatusSnapshot };

/** Training is over; the worker may exit. */
export type Done = Envelope<'done'> & { reason: string };

export type FailureCode =
  | 'version-mismatch' | 'malformed' | 'unexpected' | 'bad-field' | 'bad-length' | 'not-finite' | 'too-many-faults' | 'compute-error';

/** A refusal or fault report, from either side, with a message a person can act on. */
export type Failure = Envelope<'failure'> & { code: FailureCode; message: string };

export type ToWorker = Welcome | ParamsUpdate | Shard | PrefetchedSamples | Done | Failure;
export type ToMonitor = Status | Done | Failure;
export type ToCoordinator = Hello | Gradients | Failure;

/** WebSocket close codes we use. */
export const CloseCode = { normal: 1000, goingAway: 1001, protocolError: 1002, policyViolation: 1008, tooBig: 1009 } as const;

export function assertNever(value: never): never {
  throw new Error(`unhandled message ${JSON.stringify(value)}`);
}
