/**
 * How many workers a step is spread over (its fan-out). Spreading a mini-batch over more workers divides its compute,
 * but every worker in a step costs a parameter frame out, a gradient frame back and, on a shared machine, a process
 * competing for the cores; for a small mini-batch fewer workers finish a step sooner. Which is faster depends on the
 * net, the batch, the links and the machines, so the tuner measures it: it runs a trial of steps at each candidate
 * fan-out (all workers, then halving down to one), keeps the one with the shortest median step time, and measures
 * again when the set of workers changes or every RETUNE_STEPS steps. Any fan-out gives the same bits (the reduction
 * tree is fixed), so tuning changes speed only.
 */

import { median } from '../shared/median.js';

/** Steps at the start of a trial that are not measured: the first shards of a new fan-out carry its set-up. */
export const WARMUP_STEPS = 5;
/** Steps measured per candidate. */
export const TRIAL_STEPS = 30;
/** Steps between re-measurements while the worker set stays the same (load on the machines may have changed). */
export const RETUNE_STEPS = 5000;
/** A narrower fan-out must beat the widest by this fraction: when they are about even, more workers share the load. */
const MIN_GAIN = 0.05;

const FAN_OUT_MODES = ['auto', 'all'] as const;
/** auto (measured), all (every ready worker), or a fixed number of workers per step (fewer when fewer are ready). */
export type FanOutMode = (typeof FAN_OUT_MODES)[number] | number;

/** --fan-out's value: auto, all or a positive whole number; null when it is none of them. */
export function parseFanOut(value: string): FanOutMode | null {
  if ((FAN_OUT_MODES as readonly string[]).includes(value)) return value as FanOutMode;
  return /^[1-9]\d{0,5}$/.test(value) ? Number(value) : null;
}

/** A decision worth reporting: the fan-out chosen after a round of trials, and the median step times measured. */
export interface FanOutChoice {
  fanOut: number;
  workers: number;
  /** Median step milliseconds per candidate fan-out tried, widest first. */
  trials: Array<{ fanOut: number; medianMs: number }>;
}

export class FanOutTuner {
  private workers = 0;
  private candidates: number[] = [];
  private trial = 0;
  private stepsInTrial = 0;
  private samples: number[] = [];
  private results: Array<{ fanOut: number; medianMs: number }> = [];
  private chosen = 0;
  private stepsSinceChoice = 0;

  constructor(private readonly mode: FanOutMode) {}

  /** The fan-out for the next step with `workers` ready workers (at least 1 when any is ready). */
  fanOut(workers: number): number {
    if (this.mode === 'all' || workers <= 1) return workers;
    if (typeof this.mode === 'number') return Math.min(this.mode, workers);
    if (workers !== this.workers || this.stepsSinceChoice >= RETUNE_STEPS) this.startTrials(workers);
    return this.isTuning() ? this.candidates[this.trial] : Math.min(this.chosen, workers);
  }

  /**
   * The step just run at fan-out `fanOut` took `ms`. Returns the choice when this step ended a round of trials.
   * A step run at another fan-out than the one asked for (a worker left mid-step) is not counted.
   */
  stepFinished(fanOut: number, ms: number): FanOutChoice | null {
    if (this.mode !== 'auto' || this.workers <= 1) return null;
    if (!this.isTuning()) {
      this.stepsSinceChoice++;
      return null;
    }
    if (fanOut !== this.candidates[this.trial]) return null;
    this.stepsInTrial++;
    if (this.stepsInTrial > WARMUP_STEPS) this.samples.push(ms);
    if (this.samples.length < TRIAL_STEPS) return null;
    this.results.push({ fanOut, medianMs: median(this.samples) });
    this.trial++;
    this.stepsInTrial = 0;
    this.samples = [];
    if (this.isTuning()) return null;
    const widest = this.results[0];
    const best = this.results.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
    this.chosen = best.medianMs < widest.medianMs * (1 - MIN_GAIN) ? best.fanOut : widest.fanOut;
    this.stepsSinceChoice = 0;
    return { fanOut: this.chosen, workers: this.workers, trials: this.results };
  }

  private isTuning(): boolean {
    return this.trial < this.candidates.length;
  }

  private startTrials(workers: number): void {
    this.workers = workers;
    this.candidates = [];
    for (let k = workers; ; k = Math.ceil(k / 2)) {
      this.candidates.push(k);
      if (k === 1) break;
    }
    this.trial = 0;
    this.stepsInTrial = 0;
    this.samples = [];
    this.results = [];
    this.stepsSinceChoice = 0;
  }
}

/**
 * An incumbent's cost counts at this fraction: an item outside the current choice replaces one inside only when it
 * is more than 20% cheaper (the incumbent costs more than 1.25 times as much). Two identical workers otherwise trade
 * places on noise, and every change sends the newcomer a parameter frame and leaves it to compute with cold caches
 * (seen on the bench's big net: alternate steps).
 */
const INCUMBENT_ADVANTAGE = 0.8;

/**
 * The `count` items of least cost (ties: the earlier), in their original order, `incumbents` favoured (see
 * INCUMBENT_ADVANTAGE). For the workers of a narrower fan-out: cost is a worker's round trip per sample (the median
 * of its last shards, step-timing.ts) — compute and the wire both ways, so a fast machine behind a slow link is not
 * preferred to a local one; 0 for a worker not yet measured, so it gets tried.
 */
export function cheapest<T>(items: readonly T[], count: number, cost: (item: T) => number, incumbents: readonly T[] = []): T[] {
  if (count >= items.length) return [...items];
  const ranked = items.map((item, index) => ({ item, index, cost: cost(item) * (incumbents.includes(item) ? INCUMBENT_ADVANTAGE : 1) }))
    .sort((a, b) => a.cost - b.cost || a.index - b.index)
    .slice(0, count);
  return ranked.sort((a, b) => a.index - b.index).map((r) => r.item);
}

/**
 * The workers of each step: every ready one at full fan-out, else the `fanOut` cheapest, with the workers of the last
 * narrower choice as incumbents. Not the previous step's workers: after a step of every worker (a re-tuning trial)
 * that would make everyone an incumbent, and two equal workers traded the step on noise at every re-tuning round.
 */
export class StepWorkerChoice<T> {
  private narrow: readonly T[] = [];

  choose(ready: readonly T[], fanOut: number, cost: (item: T) => number): readonly T[] {
    if (fanOut >= ready.length) return ready;
    this.narrow = cheapest(ready, fanOut, cost, this.narrow);
    return this.narrow;
  }
}
