/** Everything the coordinator reports, as one typed union; `--json` prints each as one line on stdout. */
export type TrainEvent =
  | { event: 'listening'; url: string; host: string; port: number }
  | { event: 'start'; sizes: number[]; batch: number; eta: number; epochs: number; cost: string; lambda: number; /** scheme name or model file */ init: string; trainSamples: number | null; testSamples: number; data: string; kernel: string; /** The kernel as people read it (select.ts, describeKernel), and the elementwise loops ("+ C loops"). */ kernelDescription: string; dtype: string; chunks: number; seed: number; referenceBackend: string | null; checkEvery: number | 'auto' }
  /** `sharedMemory`: parameters and gradients move through a shared-memory lane (same host), not the socket. */
  | { event: 'worker-joined'; workerId: string; name: string; address: string; kernel: string; /** Its rounding-probe fingerprint, if it sent one. */ rounding: string | null; sharedMemory: boolean; workers: number }
  | { event: 'worker-left'; workerId: string; reason: string; workers: number }
  | { event: 'waiting'; message: string }
  | { event: 'rejected'; address: string; reason: string }
  | { event: 'warning'; message: string }
  | { event: 'error'; message: string }
  | { event: 'step'; step: number; epoch: number; batchSize: number; cost: number; paramHash: string | null; workers: number; ms: number; reissued: number; dropped: number }
  | { event: 'epoch'; epoch: number; steps: number; /** η used in this epoch. */ eta: number; testAccuracy: number | null; testCost: number | null; trainCost: number; samplesPerSecond: number; trainSeconds: number; evalSeconds: number; paramHash: string;
      /** Wire traffic of the epoch's training, per training sample and per step; arrays through shared memory per step. */
      bytesSentPerSample: number; bytesReceivedPerSample: number; bytesPerStep: number; sharedMemoryBytesPerStep: number;
      /** Mean wall time per step, and the mean time a worker waited for its shard's samples (0 when prefetched). */
      stepMs: number; dataWaitMsPerShard: number }
  /** The fan-out tuner's choice: steps now go to `fanOut` of the `workers` ready workers (median step ms per trial). */
  | { event: 'fan-out'; fanOut: number; workers: number; trials: Array<{ fanOut: number; medianMs: number }> }
  | { event: 'reference'; step: number; backend: string; maxAbsError: number; maxRelError: number; ok: boolean; tolerance: number; referenceMs: number }
  | { event: 'eta'; epoch: number; eta: number; reason: string }
  | { event: 'stopped-early'; epoch: number; reason: string; bestAccuracy: number | null; bestEpoch: number }
  | { event: 'saved'; path: string }
  /** --save-best wrote the model of `epoch`, the best test accuracy so far. */
  | { event: 'saved-best'; path: string; epoch: number; testAccuracy: number }
  | { event: 'checkpoint'; path: string; step: number; paramHash: string }
  | { event: 'resumed'; path: string; step: number; epoch: number; paramHash: string }
  | { event: 'done'; epochs: number; /** Why training ended before --epochs, or null. */ stoppedEarly: string | null; steps: number; testAccuracy: number | null; seconds: number; samplesPerSecond: number; paramHash: string; droppedResults: number; reissuedShards: number; workersSeen: number; badRows: number;
      /** Wire traffic of the whole run (frames to and from every peer), and per step; arrays through shared memory. */
      bytesSent: number; bytesReceived: number; bytesPerStep: number; bytesShared: number; referenceChecks: number; referenceFailures: number; worstReferenceRelError: number | null; referenceBackend: string | null };

export interface Reporter {
  emit(event: TrainEvent): void;
  /** Live progress within an epoch (human view only); cheap to call every step. */
  progress?(epoch: number, epochs: number, stepInEpoch: number, stepsPerEpoch: number, samplesPerSecond: number): void;
  close?(): void;
}

/** One JSON object per line on stdout. */
export function jsonReporter(write: (line: string) => void = (line) => process.stdout.write(line)): Reporter {
  return { emit: (event) => write(JSON.stringify(event) + '\n') };
}
