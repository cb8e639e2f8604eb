/**
 * Section 2: end to end. Runs the real CLI, `nabla train --json --workers K …`, and reads the `epoch` events'
 * samplesPerSecond (training wall time only; evaluation excluded). The rate reported is the median over epochs
 * 2..E: epoch 1 carries JIT warm-up and the workers' first allocations.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { contentionBetween, snapshot, type Contention } from './contention.js';
import type { Dtype } from '../shared/kernel/dtype.js';
import type { FanOutMode } from '../coordinator/fan-out.js';
import type { NetCase } from './nets.js';
import { median } from './timing.js';

const cliPath = fileURLToPath(new URL('../bin/nabla.js', import.meta.url));

export interface E2eConfig {
  net: NetCase;
  workers: number;
  /** Value for --kernel. */
  kernel: 'auto' | 'js';
  /** Value for --dtype. */
  dtype: Dtype;
  /** Value for --fan-out. */
  fanOut: FanOutMode;
  /** false: --no-shm (every array over the sockets, as with workers on other machines). */
  shm: boolean;
  /** Value for --chunks; null: the default (auto). */
  chunks: number | null;
  /** true: NABLA_NATIVE=off, every process on the TypeScript elementwise loops (shared/kernel/elementwise.ts). */
  tsLoops: boolean;
  epochs: number;
}

export interface E2eResult {
  net: string;
  sizes: number[];
  batch: number;
  workers: number;
  kernelOption: string;
  dtype: Dtype;
  fanOut: FanOutMode;
  shm: boolean;
  /** --chunks given, or null (auto). */
  chunks: number | null;
  tsLoops: boolean;
  /** The fan-out --fan-out auto settled on (its last `fan-out` event), or null. */
  fanOutChosen: number | null;
  /** What the coordinator's `start` event reports (the kernel local workers were told to use). */
  kernel: string | null;
  epochs: number;
  epochRates: number[];
  /** Median of epochs 2..E (all epochs when E = 1). */
  samplesPerSecond: number;
  wallSeconds: number;
  testAccuracy: number | null;
  paramHash: string | null;
  command: string;
  /** Other processes' CPU use during the whole run (start-up included). */
  contention: Contention | null;
  /** WebSocket bytes per step, both directions, when the epoch event reports it. */
  bytesPerStep: number | null;
  /** Runs pooled into this result (1 for a single run). */
  rounds: number;
  error?: string;
}

interface EpochEvent {
  event: 'epoch'; epoch: number; samplesPerSecond: number; testAccuracy: number | null; paramHash: string;
  /** Present in newer builds: wire bytes per training step (both directions). */
  bytesPerStep?: number;
}

export async function runE2e(config: E2eConfig, timeoutMs: number): Promise<E2eResult> {
  const { net, workers, kernel, dtype, fanOut, shm, chunks, tsLoops, epochs } = config;
  const args = [
    cliPath, 'train', '--json', '--workers', String(workers), '--epochs', String(epochs), '--data', 'mnist',
    '--sizes', net.sizes.join(','), '--batch', String(net.batch), '--seed', '1',
  ];
  if (kernel !== 'auto') args.push('--kernel', kernel);
  if (dtype !== 'float64') args.push('--dtype', dtype);
  if (fanOut !== 'auto') args.push('--fan-out', String(fanOut));
  if (!shm) args.push('--no-shm');
  if (chunks !== null) args.push('--chunks', String(chunks));
  const command = `${tsLoops ? 'NABLA_NATIVE=off ' : ''}node dist/bin/nabla.js ${args.slice(1).join(' ')}`;
  const started = performance.now();
  const before = snapshot();
  const env = tsLoops ? { ...process.env, NABLA_NATIVE: 'off' } : process.env;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => { stderr = (stderr + text).slice(-4000); });
  const epochRates: number[] = [];
  let startKernel: string | null = null;
  let fanOutChosen: number | null = null;
  let last: EpochEvent | null = null;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (!line.startsWith('{')) return;
    let event: { event?: string; kernel?: string; fanOut?: number };
    try {
      event = JSON.parse(line) as { event?: string };
    } catch {
      return;
    }
    if (event.event === 'start') startKernel = event.kernel ?? null;
    if (event.event === 'fan-out') fanOutChosen = event.fanOut ?? null;
    if (event.event === 'epoch') {
      last = event as EpochEvent;
      epochRates.push(last.samplesPerSecond);
    }
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (c, s) => resolve([c, s])); // after stdout has ended, so every line was read
  });
  clearTimeout(timer);
  const contention = contentionBetween(before, snapshot());
  const measured = epochRates.length > 1 ? epochRates.slice(1) : epochRates;
  const result: E2eResult = {
    net: net.label, sizes: [...net.sizes], batch: net.batch, workers, kernelOption: kernel, dtype, fanOut, shm, chunks, tsLoops, fanOutChosen, kernel: startKernel, epochs,
    epochRates, samplesPerSecond: median(measured), wallSeconds: (performance.now() - started) / 1000,
    testAccuracy: (last as EpochEvent | null)?.testAccuracy ?? null, paramHash: (last as EpochEvent | null)?.paramHash ?? null, command, contention,
    bytesPerStep: (last as EpochEvent | null)?.bytesPerStep ?? null, rounds: 1,
  };
  if (code !== 0 || epochRates.length < epochs) {
    result.error = `exit ${code ?? signal}${signal === 'SIGTERM' ? ` (timed out after ${timeoutMs / 1000} s)` : ''}; ` +
      `${epochRates.length}/${epochs} epochs; stderr: ${stderr.trim().split('\n').slice(-5).join(' | ')}`;
  }
  return result;
}

/**
 * Pools repeated runs of one configuration: the epochs 2..E of every run (each run's first epoch is its warm-up),
 * median over all of them; the contention of the most disturbed run; the first error, if any.
 */
export function poolRuns(runs: readonly E2eResult[]): E2eResult {
  const [first] = runs;
  const measured = runs.flatMap((r) => (r.epochRates.length > 1 ? r.epochRates.slice(1) : r.epochRates));
  const load = (r: E2eResult): number => (r.contention ? r.contention.foreignCores + r.contention.stealCores : -1);
  const worst = [...runs].sort((a, b) => load(b) - load(a))[0];
  const error = runs.find((r) => r.error)?.error;
  return {
    ...first,
    epochRates: runs.flatMap((r) => r.epochRates),
    samplesPerSecond: median(measured),
    wallSeconds: runs.reduce((sum, r) => sum + r.wallSeconds, 0),
    contention: worst.contention,
    rounds: runs.length,
    ...(error ? { error } : {}),
  };
}
