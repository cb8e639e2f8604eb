/**
 * The monitor feed's content: one snapshot of the whole cluster, computed by the coordinator once per interval
 * whatever the number of monitors, and sent to each of them as a `status` message. Read-only by design.
 */
export interface WorkerStatus {
  id: string;
  name: string;
  address: string;
  kernel: string;
  /** Optional (absent from older coordinators): its parameters and gradients go through shared memory, not the socket. */
  sharedMemory?: boolean;
  /**
   * Optional (absent from older coordinators): it holds the current parameters from its own update (it computed the
   * last step alone and was sent none for them), not from the coordinator.
   */
  ownUpdates?: boolean;
  /** 'busy' while it holds a shard of the current step. */
  state: 'idle' | 'busy';
  /** Chunks in its last shard. */
  chunks: number;
  /** Its measured compute speed (samples per second of compute, smoothed). */
  samplesPerSecond: number;
  /** Its last shard: compute time reported by the worker, the rest of the round trip, and time idle after it. */
  computeMs: number;
  transferMs: number;
  waitMs: number;
  bytesIn: number;
  bytesOut: number;
  shards: number;
  samples: number;
  heartbeatAgeMs: number;
}

export interface StatusSnapshot {
  /** Coordinator clock, ms since the epoch. */
  timeMs: number;
  job: {
    sizes: number[]; batch: number; eta: number; epochs: number; seed: number; data: string; kernel: string;
    /** The cost, L2 λ and compute type (optional: coordinators before them did not send them). */
    cost?: string; lambda?: number; dtype?: string;
    trainSamples: number; testSamples: number; stepsPerEpoch: number; totalSteps: number;
  } | null;
  progress: {
    state: 'waiting' | 'training' | 'done';
    epoch: number;
    step: number;
    elapsedMs: number;
    /** Estimated time to the end, null until it can be estimated. */
    etaMs: number | null;
  };
  throughput: {
    samplesPerSecond: number;
    stepsPerSecond: number;
    /** samples/s per feed interval, oldest first (bounded). */
    history: number[];
  };
  /** Per finished epoch. */
  epochs: Array<{ epoch: number; trainCost: number; testAccuracy: number | null; samplesPerSecond: number }>;
  /** Mean cost per sample of the steps in each feed interval, oldest first (bounded). */
  costHistory: number[];
  /** Where a step's time went, averaged over the last interval, in ms per step. */
  stepTime: { computeMs: number; transferMs: number; reduceMs: number; idleMs: number };
  workers: WorkerStatus[];
  reference: { backend: string; checks: number; failures: number; lastStep: number; lastMaxRelError: number; ok: boolean } | null;
  /** Recent events (joins, departures, failures, checkpoints), oldest first (bounded). */
  events: Array<{ timeMs: number; text: string }>;
  paramHash: string;
}
