import { describeCompute, selectGemm } from '../shared/kernel/select.js';
import { initParams } from '../shared/network/init.js';
import { shapeOf, sizesEqual, type Params } from '../shared/network/layout.js';
import { readModelFile, writeModelFile } from '../shared/network/model-file.js';
import { paramHash } from '../shared/param-hash.js';
import { usage } from '../shared/usage-error.js';
import { jobDifferences, newestValidCheckpoint, writeCheckpoint, type JobIdentity } from './checkpoint.js';
import { Cluster } from './cluster.js';
import { LiveReferenceCheck, ReferenceMismatchError } from './live-check.js';
import type { TrainingConfig } from './config.js';
import { jsonReporter, type Reporter } from './events.js';
import { humanReporter } from './human-reporter.js';
import { MonitorFeed, teeReporter } from './monitor-feed.js';

/** How often the monitor feed computes and sends a snapshot. */
const MONITOR_INTERVAL_MS = 500;
import { spawnLocalWorkers, type LocalWorkers } from './local-workers.js';
import { DivergedError, train } from './trainer.js';
import { openInputs } from './inputs.js';
import type { ReportSummary } from '../monitor/report.js';
import { writeRunReport } from '../monitor/write-report.js';

/** Runs a whole job: load data, start the coordinator, (optionally) local workers, train, save. Returns the exit code. */
export async function runTraining(config: TrainingConfig, localWorkers: number): Promise<number> {
  const feed = new MonitorFeed(MONITOR_INTERVAL_MS);
  const reporter: Reporter = teeReporter(config.json ? jsonReporter() : humanReporter(), feed);
  const gemm = selectGemm(config.kernel);
  const { layout } = config;
  const dataset = await openInputs({
    dataSpec: config.dataSpec, testSpec: config.testSpec, layout, epochs: config.epochs, shuffleBuffer: config.shuffleBuffer,
    memoryLimitBytes: config.memoryLimitMb * 2 ** 20, cache: config.cache, skipBadRows: config.skipBadRows,
  }, (message) => reporter.emit({ event: 'warning', message }));
  const plateau = { etaSchedule: config.etaSchedule, plateauEpochs: config.plateauEpochs, stopAfterEpochs: config.stopAfterEpochs };
  if (!dataset.test && (plateau.etaSchedule !== 'constant' || plateau.stopAfterEpochs > 0)) {
    usage(`--eta-schedule ${plateau.etaSchedule} and --stop-after watch the test accuracy, and ${config.dataSpec} has no test split: pass --test SPEC`);
  }
  if (config.saveBestPath && !dataset.test) usage(`--save-best keeps the model of the best test accuracy, and ${config.dataSpec} has no test split: pass --test SPEC`);
  if (config.lambda > 0 && dataset.train.count === null) {
    usage(`--lambda needs the training-set size n (weights decay by 1 − ηλ/n), which ${config.dataSpec} does not know before a full pass; ` +
      'add --cache, or train from a file');
  }
  const job: JobIdentity = {
    sizes: [...layout.sizes], batch: config.batch, eta: config.eta, seed: config.seed, shuffle: config.shuffle,
    maxChunks: config.maxChunks, trainSamples: dataset.train.count ?? -1, cost: config.cost, lambda: config.lambda, ...plateau, dtype: config.dtype,
  };
  const resumed = config.resume ? resumeCheckpoint(config, job, reporter) : null;
  /** What a saved model file records about its training (beside sizes and parameters). */
  const modelInfo = { trainedBy: 'nabla', cost: config.cost, eta: config.eta, lambda: config.lambda, batch: config.batch, seed: config.seed };
  const params = resumed?.params ?? startingParams(config, (message) => reporter.emit({ event: 'warning', message }));
  const resumeFrom = resumed?.position ?? null;

  const cluster = new Cluster({
    layout, cost: config.cost, dtype: config.dtype, fanOut: config.fanOut, mixedKernels: config.mixedKernels, kernel: gemm, shm: config.shm, host: config.host, port: config.port, maxChunks: job.maxChunks,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs, shardTimeoutMs: config.shardTimeoutMs, maxConnections: config.maxConnections,
    token: config.token, tls: config.tls, reporter,
  });
  const check = config.checkEvery !== 0 ? await LiveReferenceCheck.start(config.checkEvery, config.checkTolerance, config.onMismatch, reporter, config.cost) : null;
  const port = await cluster.start(params, resumeFrom?.step ?? 0);
  feed.attach(cluster);
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  const scheme = config.tls ? 'wss' : 'ws';
  reporter.emit({ event: 'listening', url: `${scheme}://${shownHost}:${port}`, host: config.host, port });
  reporter.emit({
    event: 'start', sizes: [...layout.sizes], batch: config.batch, eta: config.eta, epochs: config.epochs,
    cost: config.cost, lambda: config.lambda, init: config.initPath ?? config.initScheme,
    trainSamples: dataset.train.count, testSamples: dataset.test?.count ?? 0, data: dataset.description,
    kernel: gemm.name, kernelDescription: describeCompute(gemm), dtype: config.dtype, chunks: job.maxChunks, seed: config.seed, referenceBackend: check?.backend ?? null, checkEvery: config.checkEvery,
  });

  let workers: LocalWorkers | null = null;
  if (localWorkers > 0) {
    const loopback = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : shownHost;
    // Local workers get the token through the environment, never on a command line other users can read.
    const env: Record<string, string> = config.token ? { NABLA_TOKEN: config.token } : {};
    const tlsArgs = config.tls ? ['--insecure-skip-verify'] : [];
    workers = spawnLocalWorkers(localWorkers, `${scheme}://${loopback}:${port}`, ['--kernel', config.kernel, ...tlsArgs, ...(config.shm ? [] : ['--no-shm'])], env);
  }
  // Interrupted: stop listening (workers keep retrying for a --resume) and exit 128 + signal number, as shells do.
  let outcome: ReportSummary | undefined;
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    void cluster.stop(`coordinator interrupted by ${signal}`, false).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await cluster.waitForWorkers(config.minWorkers);
    const summary = await train({
      layout, params, train: dataset.train, test: dataset.test, epochs: config.epochs, batch: config.batch,
      eta: config.eta, cost: config.cost, lambda: config.lambda, plateau,
      seed: config.seed, shuffle: config.shuffle, hashSteps: config.json, resumeFrom, check, prefetch: config.prefetch,
      onBest: config.saveBestPath === null ? undefined : (current, epoch, accuracy) => {
        const path = config.saveBestPath as string;
        writeModelFile(path, layout, current, { ...modelInfo, epochs: epoch, testAccuracy: accuracy });
        reporter.emit({ event: 'saved-best', path, epoch, testAccuracy: accuracy });
      },
      afterStep: (position, current, isFinal) => {
        if (!config.checkpointDir || (position.step % config.checkpointEvery !== 0 && !isFinal)) return;
        const path = writeCheckpoint(config.checkpointDir, position, job, layout, current, config.keepCheckpoints);
        reporter.emit({ event: 'checkpoint', path, step: position.step, paramHash: paramHash(current) });
      },
    }, cluster, gemm, reporter);
    const checks = await check?.finish();
    if (config.savePath) {
      writeModelFile(config.savePath, layout, summary.params, { ...modelInfo, epochs: summary.epochs });
      reporter.emit({ event: 'saved', path: config.savePath });
    }
    const done = {
      event: 'done' as const, epochs: summary.epochs, stoppedEarly: summary.stoppedEarly, steps: summary.steps, testAccuracy: summary.lastEvaluation?.accuracy ?? null,
      seconds: summary.seconds, samplesPerSecond: summary.samplesPerSecond, paramHash: paramHash(summary.params),
      droppedResults: summary.droppedResults, reissuedShards: summary.reissuedShards, workersSeen: cluster.workersSeen,
      badRows: dataset.badRows(),
      bytesSent: cluster.traffic.sent, bytesReceived: cluster.traffic.received,
      bytesPerStep: (cluster.traffic.sent + cluster.traffic.received) / Math.max(1, summary.steps - (resumeFrom?.step ?? 0)),
      bytesShared: cluster.traffic.shared,
      referenceChecks: checks?.checks ?? 0, referenceFailures: checks?.failures ?? 0,
      worstReferenceRelError: checks ? checks.worstRelError : null, referenceBackend: checks?.backend ?? null,
    };
    outcome = done;
    reporter.emit(done);
    return 0;
  } catch (error) {
    if (error instanceof DivergedError) {
      reporter.emit({ event: 'error', message: error.message });
      return 1;
    }
    if (!(error instanceof ReferenceMismatchError)) throw error;
    reporter.emit({ event: 'error', message: `${error.message}; training stopped (--on-mismatch warn keeps going)` });
    return 1;
  } finally {
    feed.stop();
    if (config.reportPath) {
      try {
        writeRunReport(config.reportPath, feed, outcome);
      } catch (error) {
        reporter.emit({ event: 'warning', message: `--report ${config.reportPath}: could not write the report (${(error as Error).message})` });
      }
    }
    await check?.close();
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    reporter.close?.();
    await cluster.stop(endOfTraining(outcome));
    await workers?.stop(5000);
  }
}

/** What workers and monitors are told when training ends; they print "training finished: " and this. */
function endOfTraining(outcome: ReportSummary | undefined): string {
  if (outcome?.epochs === undefined) return 'stopped by an error (the coordinator says which)';
  const accuracy = outcome.testAccuracy === null || outcome.testAccuracy === undefined ? '' : `, test accuracy ${(outcome.testAccuracy * 100).toFixed(2)}%`;
  return `${outcome.epochs} epoch${outcome.epochs === 1 ? '' : 's'}, ${outcome.steps} steps${accuracy}`;
}

/** The newest valid checkpoint for this job, or null (with a warning) when the directory has none. */
function resumeCheckpoint(config: TrainingConfig, job: JobIdentity, reporter: Reporter) {
  const dir = config.checkpointDir as string;
  const warn = (message: string): void => reporter.emit({ event: 'warning', message });
  const checkpoint = newestValidCheckpoint(dir, warn);
  if (!checkpoint) {
    warn(`--resume: no usable checkpoint in ${dir}; starting from the beginning`);
    return null;
  }
  // --chunks auto chose for a fresh run; the checkpoint's run may have chosen otherwise (an older default), and only its choice reproduces it.
  if (config.chunksAuto) job.maxChunks = checkpoint.job.maxChunks;
  const differences = jobDifferences(checkpoint.job, job);
  if (differences.length > 0) {
    usage(`--resume: ${checkpoint.path} belongs to a different job; resuming would not reproduce it:\n  ${differences.join('\n  ')}`);
  }
  reporter.emit({ event: 'resumed', path: checkpoint.path, step: checkpoint.position.step, epoch: checkpoint.position.epoch, paramHash: paramHash(checkpoint.params) });
  return checkpoint;
}

function startingParams(config: TrainingConfig, warn: (message: string) => void): Params {
  if (!config.initPath) return initParams(config.layout, config.seed, config.initScheme);
  const model = readModelFile(config.initPath);
  if (!sizesEqual(model.layout.sizes, config.layout.sizes)) {
    usage(`--init ${config.initPath} has sizes ${shapeOf(model.layout.sizes)} but --sizes is ${config.layout.sizes.join(',')}; pass --sizes ${model.layout.sizes.join(',')}`);
  }
  if (model.cost !== config.cost) warn(`--init ${config.initPath} was trained with the ${model.cost} cost; this run uses --cost ${config.cost}`);
  return model.params;
}
