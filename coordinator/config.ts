import { readFileSync } from 'node:fs';
import { isLoopbackHost } from '../shared/auth.js';
import { DTYPES, type Dtype } from '../shared/kernel/dtype.js';
import { KERNEL_CHOICES, type KernelChoice } from '../shared/kernel/select.js';
import { MIXED_KERNELS, type MixedKernels } from './cluster.js';
import { parseFanOut, type FanOutMode } from './fan-out.js';
import { COST_NAMES, type CostName } from '../shared/network/cost.js';
import { INIT_SCHEMES, type InitScheme } from '../shared/network/init.js';
import { parseSizes, type ParamLayout } from '../shared/network/layout.js';
import { defaultMaxChunks } from '../shared/reduction/tree.js';
import { RESULTS_AHEAD } from '../shared/protocol/messages.js';
import { usage } from '../shared/usage-error.js';
import type { CheckEvery, OnMismatch } from './live-check.js';
import { checkReportPath } from '../monitor/write-report.js';
import { ETA_SCHEDULES, type EtaSchedule } from './plateau.js';

/** Options shared by `nabla train` and `nabla coordinator`, as yargs hands them over. */
export interface TrainingArgs {
  data: string;
  test?: string;
  sizes: string;
  epochs: number;
  batch: number;
  eta: number;
  seed: number;
  shuffle: boolean;
  init?: string;
  cost: string;
  lambda: number;
  stopAfter: number;
  etaSchedule: string;
  plateau: number;
  save?: string;
  saveBest?: string;
  json: boolean;
  kernel: string;
  dtype: string;
  fanOut: string;
  mixedKernels: string;
  shm: boolean;
  chunks: string;
  listen: string;
  heartbeatTimeout: number;
  shardTimeout: number;
  maxConnections: number;
  minWorkers: number;
  checkpointDir?: string;
  checkpointEvery: number;
  keepCheckpoints: number;
  resume: boolean;
  checkEvery: string;
  checkTolerance: number;
  onMismatch: string;
  prefetch: string;
  report?: string;
  shuffleBuffer: number;
  memoryLimit: number;
  cache: boolean;
  skipBadRows: boolean;
  token?: string;
  insecure: boolean;
  tlsCert?: string;
  tlsKey?: string;
}

/** Validated configuration; everything a run needs, with units in the names. */
export interface TrainingConfig {
  dataSpec: string;
  testSpec: string | null;
  layout: ParamLayout;
  epochs: number;
  batch: number;
  eta: number;
  seed: number;
  shuffle: boolean;
  /** Start from this model file (--init FILE); null: draw the weights with initScheme. */
  initPath: string | null;
  initScheme: InitScheme;
  cost: CostName;
  /** L2 regularisation λ: weights decay by 1 − ηλ/n each step (n the training-set size); 0 is the seed's plain SGD. */
  lambda: number;
  /** Stop after this many epochs without a better test accuracy; 0 never stops early. */
  stopAfterEpochs: number;
  etaSchedule: EtaSchedule;
  /** halve-on-plateau halves η after this many epochs without a better test accuracy. */
  plateauEpochs: number;
  savePath: string | null;
  /** Write the model here after every epoch whose test accuracy beats all before it (needs test data). */
  saveBestPath: string | null;
  json: boolean;
  kernel: KernelChoice;
  /** The type workers compute and exchange parameters and gradients in; the parameters themselves stay float64. */
  dtype: Dtype;
  /** auto: each step goes to as many workers as measured fastest; all: to every ready worker. */
  fanOut: FanOutMode;
  /** Workers whose kernel rounds differently from the first to join: used with a warning, or refused. */
  mixedKernels: MixedKernels;
  /** Offer workers on this host a shared-memory lane for parameters and gradients (shared/protocol/shm.ts). */
  shm: boolean;
  maxChunks: number;
  /** --chunks auto: maxChunks was derived from --batch, and --resume takes the checkpoint's instead. */
  chunksAuto: boolean;
  host: string;
  port: number;
  heartbeatTimeoutMs: number;
  shardTimeoutMs: number;
  maxConnections: number;
  /** Workers that must be connected before the first step. */
  minWorkers: number;
  checkpointDir: string | null;
  /** Write a checkpoint every this many steps (and at the end). */
  checkpointEvery: number;
  keepCheckpoints: number;
  resume: boolean;
  /** TF.js reference check of the first step, then of every checkEvery-th step or, with 'auto', within a time budget (live-check.ts); 0 turns it off. */
  checkEvery: CheckEvery;
  checkTolerance: number;
  onMismatch: OnMismatch;
  /** Steps whose samples go to the workers ahead of time. */
  prefetch: number;
  /** Write the end-of-run HTML report here; null: no report. */
  reportPath: string | null;
  /** 0: in memory when the data fits under memoryLimitMb, else streamed; N: always streamed through N samples. */
  shuffleBuffer: number;
  memoryLimitMb: number;
  cache: boolean;
  skipBadRows: boolean;
  token: string | null;
  tls: { cert: string; key: string } | null;
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) usage(`--${name} must be an integer from 1 to ${max}, got ${value}`);
  return value;
}

/**
 * --prefetch: a number of steps, or 'auto': RESULTS_AHEAD + 1 (4). Samples sent ahead let a worker that applies
 * updates itself compute steps before their shards arrive (worker/client.ts, runAhead), up to RESULTS_AHEAD beyond
 * its last shard, so it needs the samples of that many steps and one more in flight. The default job ([784,30,10],
 * batch 10) took 9.3–9.4 s with 2 against 10.5–11.2 s with 0 (when a worker ran one step ahead at most); with
 * the deeper run-ahead, 4.4 s with 4 against 4.4–4.5 s with 2.
 */
function prefetchSteps(text: string): number {
  const steps = autoOrInteger('prefetch', text, 0, 64, 'a whole number of steps from 0 to 64');
  return steps === 'auto' ? RESULTS_AHEAD + 1 : steps;
}

/** --chunks: auto (defaultMaxChunks of the batch size) or a number of chunks. */
export function parseChunks(text: string, batch: number): number {
  const chunks = autoOrInteger('chunks', text, 1, 1024, 'an integer from 1 to 1024');
  return chunks === 'auto' ? defaultMaxChunks(batch) : chunks;
}

/** An option given as 'auto' or as a whole number from min to max; `what` says which numbers, for the message. */
function autoOrInteger(name: string, text: string, min: number, max: number, what: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) usage(`--${name} must be auto or ${what}, got "${text}"`);
  return value;
}

function nonNegativeInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) usage(`--${name} must be an integer from 0 to ${max}, got ${value}`);
  return value;
}

/** --init: a scheme name (standard, scaled) or a model file to start from. A file named like a scheme is ./scaled. */
function initChoice(text: string | undefined): { initScheme: InitScheme; initPath: string | null } {
  if (text === undefined || text === '') return { initScheme: 'standard', initPath: null };
  if ((INIT_SCHEMES as readonly string[]).includes(text)) return { initScheme: text as InitScheme, initPath: null };
  return { initScheme: 'standard', initPath: text };
}

/** Splits HOST:PORT (IPv6 as [::1]:PORT); port 0 picks a free port. */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!match) usage(`--listen must be HOST:PORT such as 0.0.0.0:8080 or 127.0.0.1:0, got "${text}"`);
  const port = Number(match[3]);
  if (port > 65535) usage(`--listen port must be 0..65535, got ${port}`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** The token, required by default whenever the coordinator is reachable from other machines. */
function checkedToken(args: TrainingArgs, host: string): string | null {
  const token = args.token ?? null;
  if (token !== null && token.length < 8) usage('--token must be at least 8 characters; generate one with: openssl rand -hex 16');
  if (token === null && !isLoopbackHost(host) && !args.insecure) {
    usage(`--listen ${host} accepts connections from other machines, so a token is required: ` +
      'pass --token SECRET (or set NABLA_TOKEN; generate one with: openssl rand -hex 16) and give workers the same token, ' +
      'or pass --insecure on a network you trust');
  }
  return token;
}

function readTls(certPath: string | undefined, keyPath: string | undefined): { cert: string; key: string } | null {
  if (!certPath && !keyPath) return null;
  if (!certPath || !keyPath) usage('--tls-cert and --tls-key go together (PEM files)');
  const read = (path: string, flag: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      return usage(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  return { cert: read(certPath, '--tls-cert'), key: read(keyPath, '--tls-key') };
}

/** Checks and converts the command line; pure, so it is tested without starting anything. */
export function toTrainingConfig(args: TrainingArgs): TrainingConfig {
  let layout: ParamLayout;
  try {
    layout = parseSizes(args.sizes);
  } catch (error) {
    return usage((error as Error).message);
  }
  if (!(Number.isFinite(args.eta) && args.eta > 0)) usage(`--eta must be a positive number, got ${args.eta}`);
  if (!Number.isInteger(args.seed) || args.seed < 0 || args.seed > 0xffffffff) usage(`--seed must be an integer from 0 to 4294967295, got ${args.seed}`);
  const kernel = oneOf('kernel', args.kernel, KERNEL_CHOICES);
  const dtype = oneOf('dtype', args.dtype, DTYPES);
  const fanOut = parseFanOut(args.fanOut) ?? usage(`--fan-out must be auto, all or a number of workers per step, got "${args.fanOut}"`);
  const mixedKernels = oneOf('mixed-kernels', args.mixedKernels, MIXED_KERNELS);
  if (!(Number.isFinite(args.heartbeatTimeout) && args.heartbeatTimeout > 0)) usage(`--heartbeat-timeout must be a positive number of seconds, got ${args.heartbeatTimeout}`);
  if (!(Number.isFinite(args.shardTimeout) && args.shardTimeout > 0)) usage(`--shard-timeout must be a positive number of seconds, got ${args.shardTimeout}`);
  const { host, port } = parseListen(args.listen);
  if (!(Number.isFinite(args.checkTolerance) && args.checkTolerance > 0)) usage(`--check-tolerance must be a positive number, got ${args.checkTolerance}`);
  if (args.onMismatch !== 'stop' && args.onMismatch !== 'warn') usage(`--on-mismatch must be stop or warn, got "${args.onMismatch}"`);
  const cost = oneOf('cost', args.cost, COST_NAMES);
  if (!(Number.isFinite(args.lambda) && args.lambda >= 0)) usage(`--lambda must be a number ≥ 0 (the L2 regularisation strength; 0 turns it off), got ${args.lambda}`);
  const etaSchedule = oneOf('eta-schedule', args.etaSchedule, ETA_SCHEDULES);
  if (args.resume && !args.checkpointDir) usage('--resume needs --checkpoint-dir DIR (the directory the earlier run wrote its checkpoints to)');
  return {
    dataSpec: args.data,
    testSpec: args.test ?? null,
    layout,
    epochs: positiveInteger('epochs', args.epochs, 1_000_000),
    batch: positiveInteger('batch', args.batch, 1 << 20),
    eta: args.eta,
    seed: args.seed,
    shuffle: args.shuffle,
    ...initChoice(args.init),
    cost,
    lambda: args.lambda,
    stopAfterEpochs: nonNegativeInteger('stop-after', args.stopAfter, 1_000_000),
    etaSchedule,
    plateauEpochs: positiveInteger('plateau', args.plateau, 1_000_000),
    savePath: args.save ?? null,
    saveBestPath: args.saveBest ?? null,
    json: args.json,
    kernel,
    dtype,
    fanOut,
    mixedKernels,
    shm: args.shm,
    maxChunks: parseChunks(args.chunks, args.batch),
    chunksAuto: args.chunks === 'auto',
    host,
    port,
    heartbeatTimeoutMs: args.heartbeatTimeout * 1000,
    shardTimeoutMs: args.shardTimeout * 1000,
    maxConnections: positiveInteger('max-connections', args.maxConnections, 100_000),
    minWorkers: positiveInteger('min-workers', args.minWorkers, 100_000),
    checkpointDir: args.checkpointDir ?? null,
    checkpointEvery: positiveInteger('checkpoint-every', args.checkpointEvery, Number.MAX_SAFE_INTEGER),
    keepCheckpoints: positiveInteger('keep-checkpoints', args.keepCheckpoints, 1_000_000),
    resume: args.resume,
    checkEvery: autoOrInteger('check-every', args.checkEvery, 0, Number.MAX_SAFE_INTEGER, 'a whole number of steps (0 turns the check off)'),
    checkTolerance: args.checkTolerance,
    onMismatch: args.onMismatch as OnMismatch,
    prefetch: prefetchSteps(args.prefetch),
    reportPath: args.report === undefined ? null : checkReportPath(args.report),
    shuffleBuffer: nonNegativeInteger('shuffle-buffer', args.shuffleBuffer, 1 << 26),
    memoryLimitMb: positiveInteger('memory-limit', args.memoryLimit, 1 << 24),
    cache: args.cache,
    skipBadRows: args.skipBadRows,
    token: checkedToken(args, host),
    tls: readTls(args.tlsCert, args.tlsKey),
  };
}

/** `value` when it is one of `choices` (an option with a fixed set of values), else a usage error naming them. */
function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) usage(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}
