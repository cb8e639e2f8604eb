import { describe, expect, it } from 'vitest';
import { msPerSample, newShardTiming, StepTimer, type ShardTiming } from './step-timing.js';

/** One shard of `samples` sent at `sentAt` whose result (computed in `computeMs`) arrives at `arrivedAt`. */
function shard(timer: StepTimer, timing: ShardTiming, samples: number, sentAt: number, computeMs: number, arrivedAt: number): void {
  timer.shardSent(timing, 1, samples, sentAt);
  timer.resultArrived(timing, computeMs, arrivedAt);
}

describe('msPerSample', () => {
  it('is 0 before any shard, then the median round trip per sample of the last nine shards', () => {
    const timer = new StepTimer();
    const timing = newShardTiming();
    expect(msPerSample(timing)).toBe(0);
    shard(timer, timing, 10, 0, 1, 2); // 2 ms round trip for 10 samples
    expect(msPerSample(timing)).toBeCloseTo(0.2, 12);
    for (let i = 0; i < 8; i++) shard(timer, timing, 10, 100 * i, 1, 100 * i + 2);
    shard(timer, timing, 10, 1000, 1, 1020); // one shard ten times slower: the figure does not move
    expect(msPerSample(timing)).toBeCloseTo(0.2, 12);
    for (let i = 0; i < 5; i++) shard(timer, timing, 10, 2000 + 100 * i, 3, 2000 + 100 * i + 4); // a slower phase
    expect(msPerSample(timing)).toBeCloseTo(0.4, 12);
  });

  it('counts compute and the wire both ways', () => {
    const timer = new StepTimer();
    const near = newShardTiming(), far = newShardTiming();
    shard(timer, near, 10, 0, 1, 1.5);
    shard(timer, far, 10, 0, 0.5, 3); // computes twice as fast, but its link costs more than that
    expect(msPerSample(far)).toBeGreaterThan(msPerSample(near));
  });
});
