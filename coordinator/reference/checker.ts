import type { Worker } from 'node:worker_threads';
import type { TfBackendPreference } from './backend.js';
import { DEFAULT_CHECK_TOLERANCE } from './compare.js';
import type { GradientComparison } from './compare.js';
import { createLayout, shapeOf } from '../../shared/network/layout.js';
import type { Floats } from '../../shared/kernel/dtype.js';
import type { Params } from '../../shared/network/layout.js';
import { startModuleThread } from './thread-launcher.js';
import type { CostName } from '../../shared/network/cost.js';
import type { CheckRequest, FromReferenceThread, ReferenceThreadConfig } from './thread-protocol.js';

/** A mini-batch and the cluster's summed gradient for it, as the step loop has them. */
export interface ReferenceJob {
  step: number;
  sizes: readonly number[];
  /** The cost whose gradient the cluster computed; the reference differentiates the same one. */
  cost: CostName;
  /** The parameters the gradient was computed at (version `step`). */
  params: Params;
  /** rows × sizes[0] inputs, row-major (longer buffers are fine: only the first rows are read). */
  x: Float64Array;
  /** rows × sizes[L] targets. */
  y: Float64Array;
  rows: number;
  /** The cluster's reduced gradient: sums over the rows, like backpropSums. */
  /** The cluster's sum: float32 in a --dtype float32 job. */
  clusterGradient: Params<Floats>;
}

export interface ReferenceResult {
  step: number;
  /** The TF.js backend that computed the reference ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
  comparison: GradientComparison;
  /** Time the reference gradient took in the thread. */
  referenceMs: number;
}

export interface ReferenceCheckerOptions {
  /** Largest accepted relative error; DEFAULT_CHECK_TOLERANCE when omitted. */
  tolerance?: number;
  /** TF.js backend; 'auto' (the default) takes the fastest that loads. */
  backend?: TfBackendPreference;
}

interface PendingCheck {
  resolve: (result: ReferenceResult) => void;
  reject: (error: Error) => void;
}

/**
 * The TF.js gradient check, run in a worker thread so a reference computation never stalls the step loop.
 * check() copies the job's arrays at once (the caller may reuse its buffers as soon as check returns) and
 * transfers the copies to the thread. Checks run one at a time in the order they were asked for.
 */
export class ReferenceChecker {
  private readonly pendingChecks = new Map<number, PendingCheck>();
  private nextId = 1;
  private stoppedReason: string | null = null;

  private constructor(
    private readonly worker: Worker,
    /** The backend in use, for the log: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
    readonly backend: string,
    /** Why faster backends were passed over. */
    readonly skipped: readonly string[],
    readonly tolerance: number,
  ) {
    worker.on('message', (message: FromReferenceThread) => this.onMessage(message));
    worker.on('error', (error) => this.stop(`reference thread crashed: ${error.message}`));
    worker.on('exit', (code) => this.stop(`reference thread exited (code ${code})`));
    worker.unref(); // an idle checker never keeps the process alive; check() holds a ref while work is pending
  }

  /** Starts the thread and waits until TF.js is loaded there; rejects with the reason when no backend loads. */
  static async start(options: ReferenceCheckerOptions = {}): Promise<ReferenceChecker> {
    const tolerance = options.tolerance ?? DEFAULT_CHECK_TOLERANCE;
    if (!(tolerance > 0)) throw new RangeError(`reference check tolerance must be a positive number, got ${tolerance}`);
    const config: ReferenceThreadConfig = { tolerance, backend: options.backend ?? 'auto' };
    const worker = startModuleThread(new URL('./reference-thread', import.meta.url), config);
    const ready = await new Promise<{ backend: string; skipped: string[] }>((resolve, reject) => {
      const fail = (message: string): void => {
        cleanup();
        void worker.terminate();
        reject(new Error(`the TF.js reference could not start: ${message}`));
      };
      const onMessage = (message: FromReferenceThread): void => {
        if (message.type === 'ready') {
          cleanup();
          resolve(message);
        } else if (message.type === 'start-failed') fail(message.message);
      };
      const onError = (error: Error): void => fail(error.message);
      const onExit = (code: number): void => fail(`thread exited with code ${code} before it was ready`);
      const cleanup = (): void => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    return new ReferenceChecker(worker, ready.backend, ready.skipped, tolerance);
  }

  /** How many checks are queued or running; a step loop can skip a check while the previous one is still busy. */
  get pending(): number {
    return this.pendingChecks.size;
  }

  /** Recomputes the job's gradient with TF.js and compares it with the cluster's. Rejects on a malformed job. */
  check(job: ReferenceJob): Promise<ReferenceResult> {
    if (this.stoppedReason !== null) return Promise.reject(new Error(this.stoppedReason));
    let request: CheckRequest;
    try {
      request = copyJob(job, this.nextId++);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const result = new Promise<ReferenceResult>((resolve, reject) => {
      this.pendingChecks.set(request.id, { resolve, reject });
    });
    if (this.pendingChecks.size === 1) this.worker.ref();
    const transfer = [request.weights, request.biases, request.x, request.y, request.clusterWeights, request.clusterBiases]
      .map((array) => array.buffer as ArrayBuffer);
    this.worker.postMessage(request, transfer);
    return result;
  }

  /** Stops the thread; checks still pending reject. */
  async close(): Promise<void> {
    if (this.stoppedReason !== null) return;
    this.stop('reference checker closed');
    await this.worker.terminate();
  }

  private onMessage(message: FromReferenceThread): void {
    if (message.type !== 'result' && message.type !== 'check-failed') return;
    const pending = this.pendingChecks.get(message.id);
    if (pending === undefined) return;
    this.pendingChecks.delete(message.id);
    if (this.pendingChecks.size === 0) this.worker.unref();
    if (message.type === 'result') {
      const { step, comparison, referenceMs } = message;
      pending.resolve({ step, backend: this.backend, comparison, referenceMs });
    } else {
      pending.reject(new Error(`reference check of step ${message.step} failed: ${message.message}`));
    }
  }

  private stop(reason: string): void {
    if (this.stoppedReason !== null) return;
    this.stoppedReason = reason;
    for (const { reject } of this.pendingChecks.values()) reject(new Error(reason));
    this.pendingChecks.clear();
    this.worker.unref();
  }
}

/** Validates the job against its sizes and copies exactly the used part of each array into a fresh buffer. */
function copyJob(job: ReferenceJob, id: number): CheckRequest {
  const { step, sizes, cost, params, x, y, rows, clusterGradient } = job;
  const layout = createLayout(sizes);
  const where = `reference check of step ${step}`;
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`${where}: rows must be a positive integer, got ${rows}`);
  const requireLength = (name: string, array: Floats, needed: number, exact: boolean, allowFloat32 = false): void => {
    if (!(array instanceof Float64Array || (allowFloat32 && array instanceof Float32Array))) {
      throw new TypeError(`${where}: ${name} must be a Float64Array${allowFloat32 ? ' or Float32Array' : ''}`);
    }
    if (exact ? array.length !== needed : array.length < needed) {
      throw new RangeError(`${where}: ${name} has ${array.length} values, expected ${exact ? '' : 'at least '}${needed} for ${rows} rows of sizes ${shapeOf(layout.sizes)}`);
    }
  };
  const inputCount = rows * layout.sizes[0];
  const targetCount = rows * layout.sizes[layout.sizes.length - 1];
  requireLength('params.weights', params.weights, layout.weightCount, true);
  requireLength('params.biases', params.biases, layout.biasCount, true);
  requireLength('clusterGradient.weights', clusterGradient.weights, layout.weightCount, true, true);
  requireLength('clusterGradient.biases', clusterGradient.biases, layout.biasCount, true, true);
  requireLength('x', x, inputCount, false);
  requireLength('y', y, targetCount, false);
  // slice() copies into a new buffer of exactly this length, safe to transfer whatever the caller's array views.
  return {
    type: 'check', id, step, sizes: [...layout.sizes], cost, rows,
    weights: params.weights.slice(),
    biases: params.biases.slice(),
    x: x.slice(0, inputCount),
    y: y.slice(0, targetCount),
    clusterWeights: new Float64Array(clusterGradient.weights),
    clusterBiases: new Float64Array(clusterGradient.biases),
  };
}
