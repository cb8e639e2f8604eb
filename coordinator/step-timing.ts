import { median } from '../shared/median.js';

/** What the coordinator measures of one worker's last shard. */
export interface ShardTiming {
  sentAtMs: number;
  arrivedAtMs: number;
  chunks: number;
  samples: number;
  /** Compute time the worker reported. */
  computeMs: number;
  /** Round trip minus compute: encoding, the wire and queueing, both ways. */
  transferMs: number;
  /** Time it sat idle at the end of the step, waiting for the slowest worker. */
  waitMs: number;
  /** Smoothed compute speed, samples per second (0 until measured); sizes its next shards. */
  samplesPerSecond: number;
  /** Round trip per sample (compute and transfer, ms) of its last RECENT_SHARDS shards, oldest overwritten first. */
  recentMsPerSample: number[];
  /** Shards measured so far (the next one goes to recentMsPerSample[shardsMeasured % RECENT_SHARDS]). */
  shardsMeasured: number;
  /** Took part in the step in progress. */
  isInStep: boolean;
}

export const newShardTiming = (): ShardTiming => ({
  sentAtMs: 0, arrivedAtMs: 0, chunks: 0, samples: 0, computeMs: 0, transferMs: 0, waitMs: 0, samplesPerSecond: 0,
  recentMsPerSample: [], shardsMeasured: 0, isInStep: false,
});

const RECENT_SHARDS = 9;

/**
 * What a worker's shards cost it, per sample: the median round trip of its last few shards (0 before any), which
 * decides who takes a narrower fan-out's steps. A median, because one shard of a few samples can take several times
 * the usual (the first step after an evaluation, a collection in either process), and a worker that computes every
 * step would otherwise hand it to one that does not, whose figure stays as it was, on one such shard.
 */
export const msPerSample = (timing: ShardTiming): number => (timing.shardsMeasured === 0 ? 0 : median(timing.recentMsPerSample));

/** Where steps' time goes, summed since the last take(): per step, the critical path split into its parts. */
export interface StepTimeTotals {
  steps: number;
  computeMs: number;
  transferMs: number;
  reduceMs: number;
  idleMs: number;
}

const SPEED_SMOOTHING = 0.2;

/**
 * Step timing for the monitor and for speed-based sharding. Per step: compute and transfer of the worker whose
 * result arrived last (the critical path), idle as the mean time workers waited for it, and reduce-and-update as
 * the coordinator's own time between the end of one step and the start of the next.
 */
export class StepTimer {
  private stepStartMs = 0;
  private lastStepEndMs = 0;
  private totals: StepTimeTotals = { steps: 0, computeMs: 0, transferMs: 0, reduceMs: 0, idleMs: 0 };

  stepStarted(nowMs = performance.now()): void {
    this.stepStartMs = nowMs;
    if (this.lastStepEndMs > 0) this.totals.reduceMs += nowMs - this.lastStepEndMs;
  }

  shardSent(timing: ShardTiming, chunks: number, samples: number, nowMs = performance.now()): void {
    timing.sentAtMs = nowMs;
    timing.chunks = chunks;
    timing.samples = samples;
    timing.isInStep = true;
  }

  resultArrived(timing: ShardTiming, computeMs: number, nowMs = performance.now()): void {
    timing.arrivedAtMs = nowMs;
    timing.computeMs = computeMs;
    timing.transferMs = Math.max(0, nowMs - timing.sentAtMs - computeMs);
    if (computeMs > 0) {
      const speed = (timing.samples / computeMs) * 1000;
      timing.samplesPerSecond = timing.samplesPerSecond === 0 ? speed : timing.samplesPerSecond + SPEED_SMOOTHING * (speed - timing.samplesPerSecond);
    }
    if (timing.samples > 0) timing.recentMsPerSample[timing.shardsMeasured++ % RECENT_SHARDS] = (computeMs + timing.transferMs) / timing.samples;
  }

  /**
   * Once per step, with every worker that may have taken part (loops, not filter/reduce: it runs at every step).
   * Returns the step's wall time.
   */
  stepFinished(workers: readonly { readonly timing: ShardTiming }[], nowMs = performance.now()): number {
    let last: ShardTiming | null = null;
    let participants = 0;
    for (const { timing } of workers) {
      if (!this.tookPart(timing)) continue;
      participants++;
      if (last === null || timing.arrivedAtMs > last.arrivedAtMs) last = timing;
    }
    if (last !== null) {
      this.totals.computeMs += last.computeMs;
      this.totals.transferMs += Math.max(0, last.arrivedAtMs - this.stepStartMs - last.computeMs);
      let waitSum = 0;
      for (const { timing } of workers) {
        if (!this.tookPart(timing)) continue;
        timing.waitMs = last.arrivedAtMs - timing.arrivedAtMs;
        waitSum += timing.waitMs;
      }
      this.totals.idleMs += waitSum / participants;
    }
    for (const { timing } of workers) timing.isInStep = false;
    this.totals.steps++;
    this.lastStepEndMs = nowMs;
    return nowMs - this.stepStartMs;
  }

  private tookPart(timing: ShardTiming): boolean {
    return timing.isInStep && timing.arrivedAtMs >= this.stepStartMs;
  }

  /** Totals since the last call, and a fresh start. */
  take(): StepTimeTotals {
    const totals = this.totals;
    this.totals = { steps: 0, computeMs: 0, transferMs: 0, reduceMs: 0, idleMs: 0 };
    return totals;
  }
}
