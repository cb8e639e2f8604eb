/** A realistic status snapshot for the monitor's unit tests (test support; not used by the CLI). */
import type { StatusSnapshot, WorkerStatus } from '../shared/protocol/status.js';

export function fixtureWorker(index: number, overrides: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    id: `w${index}`, name: `host-${index}/${1000 + index}`, address: `127.0.0.1:${40000 + index}`, kernel: 'openblas',
    state: index % 2 === 0 ? 'busy' : 'idle', chunks: 4, samplesPerSecond: 30_000 + 1000 * index,
    computeMs: 0.15, transferMs: 0.4, waitMs: 0.1, bytesIn: 180e6, bytesOut: 186e6, shards: 900, samples: 9000, heartbeatAgeMs: 120,
    ...overrides,
  };
}

export function fixtureSnapshot(overrides: Partial<StatusSnapshot> = {}, workers = 2): StatusSnapshot {
  const timeMs = Date.UTC(2025, 0, 15, 12, 0, 0);
  return {
    timeMs,
    job: {
      sizes: [784, 30, 10], batch: 10, eta: 3, epochs: 30, seed: 1, data: 'bundled MNIST digits', kernel: 'openblas',
      trainSamples: 8000, testSamples: 2000, stepsPerEpoch: 800, totalSteps: 24000,
    },
    progress: { state: 'training', epoch: 3, step: 1800, elapsedMs: 12_500, etaMs: 154_000 },
    throughput: { samplesPerSecond: 4850, stepsPerSecond: 485, history: Array.from({ length: 40 }, (_, i) => 3000 + 40 * i + 300 * Math.sin(i)) },
    epochs: [
      { epoch: 1, trainCost: 0.317, testAccuracy: 0.655, samplesPerSecond: 4200 },
      { epoch: 2, trainCost: 0.154, testAccuracy: 0.844, samplesPerSecond: 4700 },
    ],
    costHistory: Array.from({ length: 40 }, (_, i) => 0.1 + 0.5 * Math.exp(-i / 6)),
    stepTime: { computeMs: 0.17, transferMs: 1.29, reduceMs: 0.55, idleMs: 0.37 },
    workers: Array.from({ length: workers }, (_, i) => fixtureWorker(i + 1)),
    reference: { backend: 'wasm', checks: 18, failures: 0, lastStep: 1800, lastMaxRelError: 1.5e-5, ok: true },
    events: [
      { timeMs: timeMs - 10_000, text: '+ w1 joined (host-1/1001, 127.0.0.1:40001)' },
      { timeMs: timeMs - 9_000, text: '+ w2 joined (host-2/1002, 127.0.0.1:40002)' },
      { timeMs: timeMs - 5_000, text: 'epoch 1: accuracy 65.50%, cost 0.3170' },
    ],
    paramHash: '139530daaf23fdb0',
    ...overrides,
  };
}
