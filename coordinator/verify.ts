import { loadRows, checkFitsNetwork, gatherSamples } from '../shared/data/samples.js';
import { DataError } from '../shared/data/errors.js';
import { readAll } from '../shared/data/stream/in-memory.js';
import { openSource } from '../shared/data/stream/source.js';
import { outputSize, shapeOf } from '../shared/network/layout.js';
import { readModelFile } from '../shared/network/model-file.js';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { usage } from '../shared/usage-error.js';
import { Cluster } from './cluster.js';
import type { Reporter } from './events.js';
import { spawnLocalWorkers } from './local-workers.js';
import { loadTf } from './reference/backend.js';
import { compareGradients, formatErrorTable, formatMismatch } from './reference/compare.js';
import { referenceGradient } from './reference/tfjs-gradient.js';

export interface VerifyOptions {
  modelPath: string;
  dataSpec: string;
  batch: number;
  workers: number;
  tolerance: number;
  chunks: number;
}

/**
 * `nabla verify`: one mini-batch (the first `batch` samples, in order) through a real cluster of local workers and
 * through TensorFlow.js autodiff; prints a per-layer table of the errors. Returns the exit code: 0 agree, 1 not.
 */
export async function runVerify(options: VerifyOptions, print: (line: string) => void): Promise<number> {
  const model = readModelFile(options.modelPath);
  const { layout, params } = model;
  let samples;
  try {
    // Through the same readers as training, so every spec `nabla train` takes works here (ndjson: included).
    const train = await readAll((await openSource(options.dataSpec)).train);
    checkFitsNetwork(train, layout.sizes[0], outputSize(layout), `--data ${options.dataSpec}`);
    samples = gatherSamples(train, null, 0, Math.min(options.batch, train.count));
  } catch (error) {
    if (error instanceof DataError || error instanceof RangeError) usage(error.message);
    throw error;
  }

  const quiet: Reporter = { emit: (event) => { if (event.event === 'rejected' || event.event === 'warning') print(`! ${JSON.stringify(event)}`); } };
  const cluster = new Cluster({
    layout, host: '127.0.0.1', port: 0, maxChunks: options.chunks, heartbeatTimeoutMs: 30_000, shardTimeoutMs: 60_000,
    maxConnections: options.workers + 4, token: null, tls: null, reporter: quiet, cost: model.cost, dtype: 'float64', fanOut: 'all', mixedKernels: 'warn', kernel: jsGemm, shm: true,
  });
  const port = await cluster.start(params, 0);
  const workers = spawnLocalWorkers(options.workers, `ws://127.0.0.1:${port}`);
  try {
    await cluster.waitForWorkers(options.workers);
    const m = samples.count;
    const result = await cluster.runStep(0, m, (offset, count) => gatherSamples(samples, null, offset, count));
    const { tf, backend } = await loadTf();
    const nOut = outputSize(layout);
    const x = new Float64Array(m * layout.sizes[0]);
    const y = new Float64Array(m * nOut);
    loadRows(samples, null, 0, m, x, y, nOut);
    const reference = referenceGradient(tf, layout.sizes, params, x, y, m, model.cost);
    const comparison = compareGradients(layout, { weights: result.sum.nablaW, biases: result.sum.nablaB }, reference, options.tolerance);
    print(`model ${options.modelPath} ${shapeOf(layout.sizes)}, ${model.cost} cost, ${m} samples of ${options.dataSpec}, ${options.workers} workers, TF.js backend ${backend}`);
    print(formatErrorTable(comparison));
    print(formatMismatch(0, comparison));
    return comparison.ok ? 0 : 1;
  } finally {
    await cluster.stop('verification finished');
    await workers.stop(5000);
  }
}
