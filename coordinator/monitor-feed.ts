import { encode } from '../shared/protocol/codec.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import type { StatusSnapshot } from '../shared/protocol/status.js';
import type { Cluster } from './cluster.js';
import type { Reporter, TrainEvent } from './events.js';

const HISTORY_POINTS = 240;
const RECENT_EVENTS = 30;

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/**
 * The monitor feed: listens to the training's events (it is a Reporter), and once per interval builds one
 * snapshot of the cluster, encodes it once and hands it to every connected monitor. Also keeps the run's history
 * for the end-of-run HTML report.
 */
export class MonitorFeed implements Reporter {
  private cluster: Cluster | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedMs = Date.now();
  private job: StatusSnapshot['job'] = null;
  private state: StatusSnapshot['progress']['state'] = 'waiting';
  private epoch = 0;
  private step = 0;
  private stepsAtLastTick = 0;
  private samplesAtLastTick = 0;
  private samplesTrained = 0;
  private lastTickMs = Date.now();
  private paramHash = '';
  private readonly throughputHistory: number[] = [];
  private readonly costHistory: number[] = [];
  private readonly epochs: StatusSnapshot['epochs'] = [];
  private readonly events: StatusSnapshot['events'] = [];
  private reference: StatusSnapshot['reference'] = null;
  private lastSnapshot: StatusSnapshot | null = null;
  private intervalCostSum = 0;
  private intervalCostCount = 0;
  /** Every interval's throughput and step-time split, for the report. */
  readonly timeline: Array<{ elapsedMs: number; samplesPerSecond: number; stepTime: StatusSnapshot['stepTime'] }> = [];

  constructor(private readonly intervalMs: number) {}

  /** Starts publishing snapshots of `cluster` every interval. */
  attach(cluster: Cluster): void {
    this.cluster = cluster;
    this.timer = setInterval(() => this.publish(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.publish();
  }

  emit(event: TrainEvent): void {
    const note = (text: string): void => pushBounded(this.events, { timeMs: Date.now(), text }, RECENT_EVENTS);
    switch (event.event) {
      case 'start': {
        // A stream of unknown length (stdin) has no step count: 0, and no ETA.
        const stepsPerEpoch = event.trainSamples === null ? 0 : Math.ceil(event.trainSamples / event.batch);
        this.job = {
          sizes: event.sizes, batch: event.batch, eta: event.eta, epochs: event.epochs, seed: event.seed, data: event.data,
          cost: event.cost, lambda: event.lambda, dtype: event.dtype,
          kernel: event.kernel, trainSamples: event.trainSamples ?? 0, testSamples: event.testSamples,
          stepsPerEpoch, totalSteps: event.epochs * stepsPerEpoch,
        };
        return;
      }
      case 'step':
        this.intervalCostSum += event.cost;
        this.intervalCostCount++;
        if (event.paramHash) this.paramHash = event.paramHash;
        return;
      case 'epoch':
        this.epochs.push({ epoch: event.epoch, trainCost: event.trainCost, testAccuracy: event.testAccuracy, samplesPerSecond: event.samplesPerSecond });
        this.paramHash = event.paramHash;
        note(`epoch ${event.epoch}: accuracy ${event.testAccuracy === null ? 'n/a' : (event.testAccuracy * 100).toFixed(2) + '%'}, cost ${event.trainCost.toFixed(4)}`);
        return;
      case 'reference':
        this.reference = {
          backend: event.backend, checks: (this.reference?.checks ?? 0) + 1, failures: (this.reference?.failures ?? 0) + (event.ok ? 0 : 1),
          lastStep: event.step, lastMaxRelError: event.maxRelError, ok: event.ok,
        };
        if (!event.ok) note(`reference check of step ${event.step} FAILED (${event.maxRelError.toExponential(2)})`);
        return;
      case 'worker-joined': return note(`+ ${event.workerId} joined (${event.name}, ${event.address})`);
      case 'worker-left': return note(`- ${event.workerId} left: ${event.reason}`);
      case 'rejected': return note(`! refused ${event.reason}`);
      case 'warning': return note(`! ${event.message}`);
      case 'error': return note(`error: ${event.message}`);
      case 'waiting': return note(event.message);
      case 'checkpoint': return note(`checkpoint at step ${event.step}`);
      case 'fan-out': return note(`steps use ${event.fanOut} of ${event.workers} workers`);
      case 'saved-best': return note(`best so far: epoch ${event.epoch}, saved to ${event.path}`);
      case 'resumed': return note(`resumed at step ${event.step}`);
      case 'eta':
        if (this.job) this.job.eta = event.eta; // the dashboard shows the η in use
        return note(`η halved to ${event.eta} for epoch ${event.epoch}`);
      case 'stopped-early': return note(`stopped early after epoch ${event.epoch}: ${event.reason}`);
      case 'done':
        this.state = 'done';
        this.paramHash = event.paramHash;
        return note(`done: accuracy ${event.testAccuracy === null ? 'n/a' : (event.testAccuracy * 100).toFixed(2) + '%'}`);
      case 'listening':
      case 'saved':
        return;
      default: {
        const unknown: never = event;
        return void unknown;
      }
    }
  }

  progress(epoch: number, _epochs: number, stepInEpoch: number, stepsPerEpoch: number): void {
    this.state = 'training';
    this.epoch = epoch;
    this.step = stepsPerEpoch > 0 ? (epoch - 1) * stepsPerEpoch + stepInEpoch : this.step + 1;
    if (this.job) this.samplesTrained = Math.min(this.step * this.job.batch, (epoch - 1) * this.job.trainSamples + stepInEpoch * this.job.batch);
  }

  /** The latest snapshot (built at the last interval), or a fresh one. */
  snapshot(): StatusSnapshot {
    return this.lastSnapshot ?? this.build();
  }

  private publish(): void {
    if (!this.cluster) return;
    this.lastSnapshot = this.build();
    if (this.cluster.monitorCount() > 0) {
      this.cluster.publishStatus(encode({ type: 'status', v: PROTOCOL_VERSION, snapshot: this.lastSnapshot }));
    }
  }

  private build(): StatusSnapshot {
    const nowMs = Date.now();
    const seconds = Math.max(1e-3, (nowMs - this.lastTickMs) / 1000);
    const samplesPerSecond = (this.samplesTrained - this.samplesAtLastTick) / seconds;
    const stepsPerSecond = (this.step - this.stepsAtLastTick) / seconds;
    this.lastTickMs = nowMs;
    this.samplesAtLastTick = this.samplesTrained;
    this.stepsAtLastTick = this.step;
    pushBounded(this.throughputHistory, samplesPerSecond, HISTORY_POINTS);
    if (this.intervalCostCount > 0) pushBounded(this.costHistory, this.intervalCostSum / this.intervalCostCount, HISTORY_POINTS);
    this.intervalCostSum = 0;
    this.intervalCostCount = 0;
    const totals = this.cluster?.timer.take() ?? { steps: 0, computeMs: 0, transferMs: 0, reduceMs: 0, idleMs: 0 };
    const per = (ms: number): number => (totals.steps > 0 ? ms / totals.steps : 0);
    const stepTime = { computeMs: per(totals.computeMs), transferMs: per(totals.transferMs), reduceMs: per(totals.reduceMs), idleMs: per(totals.idleMs) };
    const elapsedMs = nowMs - this.startedMs;
    if (this.state === 'training') this.timeline.push({ elapsedMs, samplesPerSecond, stepTime });
    const totalSteps = this.job?.totalSteps ?? 0;
    const done = totalSteps > 0 ? this.step / totalSteps : 0;
    return {
      timeMs: nowMs,
      job: this.job,
      progress: { state: this.state, epoch: this.epoch, step: this.step, elapsedMs, etaMs: done > 0 && done < 1 ? (elapsedMs * (1 - done)) / done : null },
      throughput: { samplesPerSecond, stepsPerSecond, history: [...this.throughputHistory] },
      epochs: [...this.epochs],
      costHistory: [...this.costHistory],
      stepTime,
      workers: this.cluster?.workerStatuses(nowMs) ?? [],
      reference: this.reference,
      events: [...this.events],
      paramHash: this.paramHash,
    };
  }
}

/** Sends every event to each reporter in turn (the console view and the monitor feed). */
export function teeReporter(...reporters: Reporter[]): Reporter {
  return {
    emit: (event) => { for (const reporter of reporters) reporter.emit(event); },
    progress: (...args) => { for (const reporter of reporters) reporter.progress?.(...args); },
    close: () => { for (const reporter of reporters) reporter.close?.(); },
  };
}
