import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { loadTf } from './backend.js';
import { compareGradients } from './compare.js';
import { createLayout } from '../../shared/network/layout.js';
import type { CheckRequest, FromReferenceThread, ReferenceThreadConfig } from './thread-protocol.js';
import { referenceGradient } from './tfjs-gradient.js';
import { threadData } from './thread-launcher.js';
import type { Tf } from './tfjs-gradient.js';

/**
 * Entry of the reference worker thread (started by ReferenceChecker): loads TensorFlow.js once, then for each
 * request computes the TF.js gradient of the mini-batch and compares it with the cluster's, off the step loop.
 * Requests are handled one at a time, in arrival order.
 */
if (parentPort === null) throw new Error('reference-thread runs as a worker thread; start it with ReferenceChecker.start()');
const port: MessagePort = parentPort;
const config = threadData<ReferenceThreadConfig>(workerData);

const post = (message: FromReferenceThread): void => port.postMessage(message);

// The checks run beside training, not instead of it: on Linux a nice value belongs to a thread, and setPriority(0)
// lowers only this one (elsewhere it would lower the whole coordinator, so it is left alone). It then runs on what
// the step loop and the workers leave idle; results arrive a little later, and nothing waits for them.
if (process.platform === 'linux') {
  try {
    setPriority(0, constants.priority.PRIORITY_LOW);
  } catch {
    // Not allowed here (some sandboxes): the checks simply compete as before.
  }
}

try {
  const { tf, backend, skipped } = await loadTf(config.backend);
  port.on('message', (request: CheckRequest) => post(runCheck(tf, request)));
  post({ type: 'ready', backend, skipped });
} catch (error) {
  post({ type: 'start-failed', message: error instanceof Error ? error.message : String(error) });
}

function runCheck(tf: Tf, request: CheckRequest): FromReferenceThread {
  const { id, step, sizes, cost, weights, biases, x, y, rows } = request;
  try {
    const startMs = performance.now();
    const reference = referenceGradient(tf, sizes, { weights, biases }, x, y, rows, cost);
    const referenceMs = performance.now() - startMs;
    const cluster = { weights: request.clusterWeights, biases: request.clusterBiases };
    const comparison = compareGradients(createLayout(sizes), cluster, reference, config.tolerance);
    return { type: 'result', id, step, comparison, referenceMs };
  } catch (error) {
    return { type: 'check-failed', id, step, message: error instanceof Error ? error.message : String(error) };
  }
}
