import { gatherSamples, type SampleSet } from '../shared/data/samples.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { evaluate, type Evaluation } from '../shared/network/evaluate.js';
import type { ParamLayout, Params } from '../shared/network/layout.js';
import { sgdStep } from '../shared/network/sgd.js';
import { paramHash } from '../shared/param-hash.js';
import { Rng } from '../shared/rng.js';
import type { Cluster } from './cluster.js';
import type { Reporter } from './events.js';

export interface TrainPlan {
  layout: ParamLayout;
  params: Params;
  train: SampleSet;
  test: SampleSet | null;
  epochs: number;
  batch: number;
  eta: number;
  seed: number;
  shuffle: boolean;
  /** Emit a `step` event for every step (JSON mode). */
  reportSteps: boolean;
}

export interface TrainSummary {
  params: Params;
  steps: number;
  seconds: number;
  samplesPerSecond: number;
  lastEvaluation: Evaluation | null;
  droppedResults: number;
  reissuedShards: number;
}

/** Seed of the data-order stream, kept apart from the initialisation stream so --init does not change the order. */
const dataOrderSeed = (seed: number): number => (seed ^ 0x5bd1e995) >>> 0;

/**
 * The seed's SGD loop over the cluster: for each epoch, a seeded shuffle (numpy's random.shuffle in the seed),
 * mini-batches of `batch` consecutive samples of that order (the last one may be shorter), one cluster step per
 * mini-batch with w ← w − (η/m)·Σ∇, then an evaluation on the test set.
 */
export async function train(plan: TrainPlan, cluster: Cluster, gemm: Gemm, reporter: Reporter): Promise<TrainSummary> {
  const { layout, train: data, batch, eta, epochs } = plan;
  const params = plan.params;
  const order = new Uint32Array(data.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const rng = new Rng(dataOrderSeed(plan.seed));
  const stepsPerEpoch = Math.ceil(data.count / batch);
  let step = 0;
  let trainMs = 0;
  let dropped = 0;
  let reissued = 0;
  let lastEvaluation: Evaluation | null = null;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (plan.shuffle) rng.shuffle(order);
    const epochStart = performance.now();
    let costSum = 0;
    for (let from = 0, stepInEpoch = 0; from < data.count; from += batch, stepInEpoch++) {
      const m = Math.min(batch, data.count - from);
      const stepStart = performance.now();
      const result = await cluster.runStep(step, m, (offset, count) => gatherSamples(data, order, from + offset, count));
      sgdStep(params, { weights: result.sum.nablaW, biases: result.sum.nablaB }, eta, m);
      step++;
      cluster.publishParams(params, step);
      costSum += result.sum.cost;
      dropped += result.dropped;
      reissued += result.reissued;
      const elapsedMs = performance.now() - epochStart;
      if (plan.reportSteps) {
        reporter.emit({
          event: 'step', step, epoch, batchSize: m, cost: result.sum.cost / m, paramHash: paramHash(params),
          workers: cluster.workerCount(), ms: performance.now() - stepStart, reissued: result.reissued, dropped: result.dropped,
        });
      }
      reporter.progress?.(epoch, epochs, stepInEpoch + 1, stepsPerEpoch, ((from + m) / elapsedMs) * 1000);
    }
    const epochMs = performance.now() - epochStart;
    trainMs += epochMs;
    const evalStart = performance.now();
    lastEvaluation = plan.test ? evaluate(gemm, layout, params, plan.test) : null;
    reporter.emit({
      event: 'epoch', epoch, steps: stepsPerEpoch,
      testAccuracy: lastEvaluation?.accuracy ?? null, testCost: lastEvaluation?.cost ?? null,
      trainCost: costSum / data.count, samplesPerSecond: (data.count / epochMs) * 1000,
      trainSeconds: epochMs / 1000, evalSeconds: (performance.now() - evalStart) / 1000, paramHash: paramHash(params),
    });
  }
  return {
    params, steps: step, seconds: trainMs / 1000, samplesPerSecond: trainMs > 0 ? (epochs * data.count * 1000) / trainMs : 0,
    lastEvaluation, droppedResults: dropped, reissuedShards: reissued,
  };
}
