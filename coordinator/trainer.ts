import { gatherSamples, type SampleSet } from '../shared/data/samples.js';
import type { TrainingData } from './epoch-data.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import type { CostName } from '../shared/network/cost.js';
import { evaluate, type Evaluation } from '../shared/network/evaluate.js';
import type { ParamLayout, Params } from '../shared/network/layout.js';
import { sgdStep } from '../shared/network/sgd.js';
import { hashLanes, hashOfLanes, paramHash } from '../shared/param-hash.js';
import { Rng, type RngState } from '../shared/rng.js';
import type { SelfUpdate } from '../shared/protocol/messages.js';
import type { Cluster } from './cluster.js';
import type { Reporter } from './events.js';
import type { LiveReferenceCheck } from './live-check.js';
import { afterEpoch, initialPlateau, type PlateauRules, type PlateauState } from './plateau.js';

/** The update produced non-finite parameters; nothing after the last good step was kept. */
export class DivergedError extends Error {
  override readonly name = 'DivergedError';
}

export interface TrainPlan {
  layout: ParamLayout;
  params: Params;
  train: TrainingData;
  test: SampleSet | null;
  epochs: number;
  batch: number;
  /** The initial learning rate η₀ (the schedule may lower it; the position holds the current one). */
  eta: number;
  cost: CostName;
  /** L2 regularisation λ (0: none); needs the training-set size. */
  lambda: number;
  plateau: PlateauRules;
  seed: number;
  shuffle: boolean;
  /** Fingerprint the parameters after every step (`paramHash` in step events; JSON mode). */
  hashSteps: boolean;
  /** Where to continue from (a checkpoint); null starts at epoch 1. */
  resumeFrom: TrainPosition | null;
  /** Steps whose samples are sent to workers ahead of time (0: samples travel with each step's shards). */
  prefetch: number;
  /** The TF.js reference check, or null when --check-every is 0. */
  check: LiveReferenceCheck | null;
  /** Called after an epoch whose test accuracy is strictly better than every earlier epoch's (its parameters). */
  onBest?: (params: Params, epoch: number, accuracy: number) => void;
  /**
   * Called after every applied step with the position to continue from (at an epoch's end: after its evaluation,
   * with the next epoch's position); `isFinal` on the last call. Within an epoch it runs while the workers compute
   * the next step, whose update has not been applied yet.
   */
  afterStep?: (position: TrainPosition, params: Params, isFinal: boolean) => void;
}

/** Everything besides the parameters that decides what the rest of the run computes. */
export interface TrainPosition {
  /** Steps applied so far (= the parameter version). */
  step: number;
  /** The epoch in progress, 1-based. */
  epoch: number;
  /** Position in this epoch's sample order of the next mini-batch. */
  from: number;
  /** The data-order generator's state at the start of this epoch, before its shuffle. */
  epochRng: RngState;
  /** Σ cost of this epoch's samples so far (for the epoch's trainCost). */
  costSum: number;
  /** The current learning rate and the early-stopping bookkeeping (see plateau.ts). */
  plateau: PlateauState;
}

export interface TrainSummary {
  params: Params;
  steps: number;
  seconds: number;
  samplesPerSecond: number;
  lastEvaluation: Evaluation | null;
  /** Epochs trained (fewer than planned when training stopped early). */
  epochs: number;
  /** Why training stopped before its last epoch, or null. */
  stoppedEarly: string | null;
  droppedResults: number;
  reissuedShards: number;
}

/**
 * Reads `ahead` mini-batches beyond the one being trained. Each yielded batch comes with `sendAhead`, which has
 * the cluster send the newly read batches' samples to the workers; the step calls it right after handing out its
 * own shards, so the transfer overlaps the step's compute and the next steps' critical paths carry only parameters,
 * small shard messages and gradients.
 */
async function* withPrefetch(batches: AsyncIterable<SampleSet>, firstStep: number, ahead: number, cluster: Cluster, rule: UpdateRule) {
  const iterator = batches[Symbol.asyncIterator]();
  const window: SampleSet[] = [];
  let step = firstStep;
  let isExhausted = false;
  for (;;) {
    const fresh: Array<{ step: number; batch: SampleSet }> = [];
    while (!isExhausted && window.length <= ahead) {
      const next = await iterator.next();
      if (next.done) {
        isExhausted = true;
        break;
      }
      // The first batch of the window is trained right away: sending its samples ahead would gain nothing.
      if (window.length > 0) fresh.push({ step: step + window.length, batch: next.value });
      window.push(next.value);
    }
    const batch = window.shift();
    if (!batch) return;
    const sendAhead = (): void => {
      for (const { step: later, batch: data } of fresh) {
        cluster.prefetch(later, data.count, (offset, count) => gatherSamples(data, null, offset, count), { ...rule, version: later + 1 });
      }
    };
    yield { batch, sendAhead };
    step++;
  }
}

/** A step's update without its version: η, λ and n, fixed within an epoch. */
type UpdateRule = Omit<SelfUpdate, 'version'>;

/** Seed of the data-order stream, kept apart from the initialisation stream so --init does not change the order. */
const dataOrderSeed = (seed: number): number => (seed ^ 0x5bd1e995) >>> 0;

export function initialPosition(seed: number, eta: number): TrainPosition {
  return { step: 0, epoch: 1, from: 0, epochRng: new Rng(dataOrderSeed(seed)).state(), costSum: 0, plateau: initialPlateau(eta) };
}

/** The position at the start of the epoch after `position`'s, whose order the generator draws next. */
function nextEpoch(position: TrainPosition, rngAfter: RngState, plateau: PlateauState): TrainPosition {
  return { step: position.step, epoch: position.epoch + 1, from: 0, epochRng: rngAfter, costSum: 0, plateau };
}

/**
 * The seed's SGD loop over the cluster: for each epoch, a seeded shuffle (numpy's random.shuffle in the seed),
 * mini-batches of `batch` consecutive samples of that order (the last one may be shorter), one cluster step per
 * mini-batch with w ← (1 − ηλ/n)·w − (η/m)·Σ∇ (λ = 0: the seed's rule), then an evaluation on the test set and,
 * with early stopping or a schedule, the decision whether to go on and with which η.
 */
export async function train(plan: TrainPlan, cluster: Cluster, gemm: Gemm, reporter: Reporter): Promise<TrainSummary> {
  const { layout, train: data, batch, epochs, params, lambda } = plan; // λ > 0 comes with a known data.count (run.ts checks)
  const stepsPerEpoch = (): number => (data.count === null ? 0 : Math.ceil(data.count / batch));
  let trainMs = 0;
  let trainedSamples = 0;
  let dropped = 0;
  let reissued = 0;
  let lastEvaluation: Evaluation | null = null;
  let stoppedEarly: string | null = null;

  let position = { ...(plan.resumeFrom ?? initialPosition(plan.seed, plan.eta)) };
  while (position.epoch <= epochs && stoppedEarly === null) {
    const { eta } = position.plateau;
    const epoch = data.epoch(position.epochRng, position.from, batch, plan.shuffle);
    const epochStart = performance.now();
    const firstFrom = position.from;
    const firstStep = position.step;
    const trafficStart = { ...cluster.traffic };
    const waitStart = { ...cluster.dataWait };
    // The first step of an epoch follows the evaluation: workers waited for that, not for samples.
    let isFirstOfEpoch = true;
    // What follows a step — its event (a parameter hash, a JSON line) and its checkpoint — runs once the next step's
    // shards are out: the workers compute while the coordinator reports and writes, instead of waiting for it. Until
    // that step's gradients are back, `params` and `position` still describe the finished step.
    let finishStep: (() => void) | null = null;
    const flushStep = (): void => {
      finishStep?.();
      finishStep = null;
    };
    // One rule for the whole epoch: η changes only between epochs (plateau.ts).
    const rule: UpdateRule = { eta, lambda, n: data.count ?? 1 };
    for await (const { batch: miniBatch, sendAhead } of withPrefetch(epoch.batches, position.step, plan.prefetch, cluster, rule)) {
      const m = miniBatch.count;
      const stepStart = performance.now();
      const afterDispatch = (): void => {
        sendAhead();
        flushStep();
      };
      // A worker that computes the whole mini-batch applies this same update to its own replica (Shard.update).
      const update = { ...rule, version: position.step + 1 };
      const result = await cluster.runStep(position.step, m, (offset, count) => gatherSamples(miniBatch, null, offset, count), {
        afterDispatch, countsDataWait: !isFirstOfEpoch, update,
      });
      const gradient = { weights: result.sum.nablaW, biases: result.sum.nablaB };
      if (plan.check?.shouldCheck(position.step)) plan.check.submit(position.step, layout, params, miniBatch, gradient);
      // With --json every step reports its parameters' hash: mixed in the update's own pass (param-hash.ts).
      const lanes = plan.hashSteps ? hashLanes() : undefined;
      const fingerprint = sgdStep(params, gradient, update.eta, m, update.lambda, update.n, undefined, lanes);
      if (fingerprint === null) {
        throw new DivergedError(`training diverged at step ${position.step + 1} (epoch ${position.epoch}): the update made parameters ` +
          `infinite or NaN; lower --eta (now ${eta})${lambda > 0 ? ' or --lambda' : ''}. Checkpoints written so far are intact.`);
      }
      position.step++;
      position.from += m;
      position.costSum += result.sum.cost;
      cluster.publishParams(params, position.step, fingerprint);
      dropped += result.dropped;
      reissued += result.reissued;
      plan.check?.throwIfMismatched();
      const done = { ...position };
      const ms = performance.now() - stepStart;
      const workers = cluster.workerCount();
      finishStep = () => {
        reporter.emit({
          event: 'step', step: done.step, epoch: done.epoch, batchSize: m, cost: result.sum.cost / m,
          paramHash: lanes ? hashOfLanes(lanes) : null,
          workers, ms, reissued: result.reissued, dropped: result.dropped,
        });
        reporter.progress?.(done.epoch, epochs, Math.ceil(done.from / batch), stepsPerEpoch(),
          ((done.from - firstFrom) / (performance.now() - epochStart)) * 1000);
        // The epoch's last step is checkpointed after the evaluation, with the decision it leads to.
        if (done.from !== data.count) plan.afterStep?.(done, params, false);
      };
      isFirstOfEpoch = false;
    }
    flushStep();
    const epochMs = performance.now() - epochStart;
    const samples = position.from - firstFrom;
    const sent = cluster.traffic.sent - trafficStart.sent;
    const received = cluster.traffic.received - trafficStart.received;
    const shared = cluster.traffic.shared - trafficStart.shared;
    const steps = Math.max(1, position.step - firstStep);
    trainMs += epochMs;
    trainedSamples += samples;
    const evalStart = performance.now();
    lastEvaluation = plan.test ? evaluate(gemm, layout, params, plan.test, plan.cost) : null;
    const decision = lastEvaluation ? afterEpoch(position.plateau, position.epoch, lastEvaluation.accuracy, plan.plateau) : null;
    reporter.emit({
      event: 'epoch', epoch: position.epoch, steps: Math.ceil(position.from / batch), eta,
      testAccuracy: lastEvaluation?.accuracy ?? null, testCost: lastEvaluation?.cost ?? null,
      trainCost: position.costSum / position.from, samplesPerSecond: (samples / epochMs) * 1000,
      trainSeconds: epochMs / 1000, evalSeconds: (performance.now() - evalStart) / 1000, paramHash: paramHash(params),
      bytesSentPerSample: sent / samples, bytesReceivedPerSample: received / samples,
      bytesPerStep: (sent + received) / steps,
      sharedMemoryBytesPerStep: shared / steps,
      stepMs: epochMs / steps,
      dataWaitMsPerShard: (cluster.dataWait.ms - waitStart.ms) / Math.max(1, cluster.dataWait.shards - waitStart.shards),
    });
    if (decision && lastEvaluation && decision.state.bestEpoch === position.epoch) plan.onBest?.(params, position.epoch, lastEvaluation.accuracy);
    if (decision?.halved) reporter.emit({ event: 'eta', epoch: position.epoch + 1, eta: decision.state.eta, reason: `no better test accuracy in ${decision.state.epochsSinceBest} epochs` });
    if (decision?.stop) {
      stoppedEarly = decision.stop;
      reporter.emit({ event: 'stopped-early', epoch: position.epoch, reason: decision.stop, bestAccuracy: decision.state.bestAccuracy, bestEpoch: decision.state.bestEpoch });
    }
    const trainedEpoch = position.epoch;
    position = nextEpoch(position, epoch.rngAfter(), decision?.state ?? position.plateau);
    plan.afterStep?.(position, params, trainedEpoch === epochs || stoppedEarly !== null);
  }
  return {
    epochs: position.epoch - 1, stoppedEarly,
    params, steps: position.step, seconds: trainMs / 1000, samplesPerSecond: trainMs > 0 ? (trainedSamples * 1000) / trainMs : 0,
    lastEvaluation, droppedResults: dropped, reissuedShards: reissued,
  };
}
