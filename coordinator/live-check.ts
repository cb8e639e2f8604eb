import { loadRows, type SampleSet } from '../shared/data/samples.js';
import type { Floats } from '../shared/kernel/dtype.js';
import type { CostName } from '../shared/network/cost.js';
import { outputSize, type ParamLayout, type Params } from '../shared/network/layout.js';
import type { Reporter } from './events.js';
import { ReferenceChecker } from './reference/checker.js';
import { formatMismatch } from './reference/compare.js';

export type OnMismatch = 'stop' | 'warn';

/** Which steps are checked after the first: every N-th, or 'auto' (as many as AUTO_CHECK keeps within budget). */
export type CheckEvery = number | 'auto';

/**
 * --check-every auto: one check at a time, at least `minSteps` apart, while the checks' own time (the first one's
 * left out) stays within `shareOfTime` of the time since the first check. On a machine whose cores all train, a
 * check's time is taken from training, however low the thread's priority: the default job (then cut into 8 chunks)
 * took 7.76 s with a check every 100th step (240), 7.16 s with auto (30–40), 6.94 s with none (means of 5
 * alternating runs). A fixed interval costs more the slower TF.js is against the cluster; a budget costs the same
 * share on every net and machine.
 */
export const AUTO_CHECK = { shareOfTime: 0.02, minSteps: 100 } as const;

/** Whether --check-every auto checks `step` (after step 0), given the state of the checks so far. */
export function autoCheckDue(step: number, state: { lastStep: number; inFlight: number; referenceMs: number; elapsedMs: number }): boolean {
  if (state.inFlight > 0 || step - state.lastStep < AUTO_CHECK.minSteps) return false;
  return state.referenceMs <= AUTO_CHECK.shareOfTime * state.elapsedMs;
}

/** A reference check that failed with --on-mismatch stop: training ends with this message, exit code 1. */
export class ReferenceMismatchError extends Error {
  override readonly name = 'ReferenceMismatchError';
}

export interface CheckSummary {
  backend: string;
  checks: number;
  failures: number;
  worstRelError: number;
  worstAbsError: number;
}

/**
 * The TF.js reference check during training: the first step and every `every`-th step (or, with 'auto', as many as
 * AUTO_CHECK allows) are recomputed by automatic differentiation in a worker thread, off the step loop's critical
 * path. Results arrive while training goes on; a mismatch is raised at the next step boundary (or at the end) when
 * `onMismatch` is 'stop'.
 */
export class LiveReferenceCheck {
  private readonly inFlight = new Set<Promise<void>>();
  private mismatch: string | null = null;
  private readonly summary: CheckSummary;
  /** For 'auto': when the first check was submitted, the last step submitted, the thread's time spent on checks. */
  private startedMs: number | null = null;
  private lastStep = 0;
  private referenceMs = 0;

  private constructor(
    private readonly checker: ReferenceChecker,
    private readonly every: CheckEvery,
    private readonly onMismatch: OnMismatch,
    private readonly reporter: Reporter,
    private readonly cost: CostName,
  ) {
    this.summary = { backend: checker.backend, checks: 0, failures: 0, worstRelError: 0, worstAbsError: 0 };
  }

  static async start(every: CheckEvery, tolerance: number, onMismatch: OnMismatch, reporter: Reporter, cost: CostName): Promise<LiveReferenceCheck> {
    const checker = await ReferenceChecker.start({ tolerance });
    return new LiveReferenceCheck(checker, every, onMismatch, reporter, cost);
  }

  get backend(): string {
    return this.checker.backend;
  }

  shouldCheck(step: number): boolean {
    if (step === 0) return true;
    if (this.every !== 'auto') return step % this.every === 0;
    const { lastStep, referenceMs } = this;
    return autoCheckDue(step, { lastStep, inFlight: this.inFlight.size, referenceMs, elapsedMs: performance.now() - (this.startedMs ?? 0) });
  }

  /** Queues the check of one step: the samples of its mini-batch, the parameters it used, the cluster's sum. */
  submit(step: number, layout: ParamLayout, params: Params, batch: SampleSet, clusterGradient: Params<Floats>): void {
    this.startedMs ??= performance.now();
    this.lastStep = step;
    const nOut = outputSize(layout);
    const x = new Float64Array(batch.count * layout.sizes[0]);
    const y = new Float64Array(batch.count * nOut);
    loadRows(batch, null, 0, batch.count, x, y, nOut);
    const done = this.checker.check({ step, sizes: layout.sizes, cost: this.cost, params, x, y, rows: batch.count, clusterGradient })
      .then((result) => {
        const { comparison } = result;
        this.summary.checks++;
        // The first check also warms TF.js up (10–20 ms against 1–3 ms later): the budget is for the ones after it.
        if (this.summary.checks > 1) this.referenceMs += result.referenceMs;
        this.summary.worstRelError = Math.max(this.summary.worstRelError, comparison.maxRelError);
        this.summary.worstAbsError = Math.max(this.summary.worstAbsError, comparison.maxAbsError);
        this.reporter.emit({
          event: 'reference', step, backend: result.backend, maxAbsError: comparison.maxAbsError,
          maxRelError: comparison.maxRelError, ok: comparison.ok, tolerance: comparison.tolerance, referenceMs: result.referenceMs,
        });
        if (comparison.ok) return;
        this.summary.failures++;
        const message = formatMismatch(step, comparison);
        if (this.onMismatch === 'stop') this.mismatch ??= message;
        else this.reporter.emit({ event: 'warning', message });
      })
      .catch((error: Error) => {
        this.mismatch ??= `the reference check of step ${step} could not run: ${error.message}`;
      })
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** Throws the first mismatch seen so far (with --on-mismatch stop). */
  throwIfMismatched(): void {
    if (this.mismatch) throw new ReferenceMismatchError(this.mismatch);
  }

  /** Waits for the checks still running, stops the thread and returns the summary (throwing a pending mismatch). */
  async finish(): Promise<CheckSummary> {
    await Promise.all([...this.inFlight]);
    await this.checker.close();
    this.throwIfMismatched();
    return this.summary;
  }

  async close(): Promise<void> {
    await this.checker.close();
  }
}
