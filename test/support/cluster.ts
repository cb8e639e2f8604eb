import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The compiled CLI: tests run real processes (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../dist/bin/nabla.js', import.meta.url));

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Every JSON event printed so far (stdout lines that parse). */
  readonly events: Array<Record<string, unknown>>;
  /** When each event arrived (performance.now()), for measuring stalls. */
  readonly arrivalMs: number[];
  isRunning(): boolean;
  stderr(): string;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves with the first event matching `predicate`, or rejects on exit/timeout with stderr attached. */
  waitFor(predicate: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** How to start `nabla`: `prefix` runs it through another command, `nodeFlags` go to node before the CLI. */
interface StartOptions {
  stdin?: string;
  /** e.g. ['ip', 'netns', 'exec', NS] to start it inside a network namespace. */
  prefix?: string[];
  /** e.g. ['--trace-gc']. */
  nodeFlags?: string[];
  /** Environment variables added to this process's, e.g. { NABLA_NATIVE: 'off' }. */
  env?: Record<string, string>;
}

/** Starts `nabla ARGS…` and collects its JSON events and stderr. */
export function startNabla(args: string[], options: StartOptions = {}): RunningProcess {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command, [...prefixArgs, ...(options.nodeFlags ?? []), CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();
  const events: Array<Record<string, unknown>> = [];
  const arrivalMs: number[] = [];
  let stderr = '';
  let stdout = '';
  const waiters = new Set<() => void>();
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    try {
      events.push(JSON.parse(line));
    } catch {
      return;
    }
    arrivalMs.push(performance.now());
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': stdout may still hold the last events when the process has exited.
    child.on('close', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    });
  });
  let hasExited = false;
  void exited.then(() => { hasExited = true; });
  return {
    child, events, arrivalMs, exited,
    isRunning: () => !hasExited,
    stderr: () => stderr,
    stdout: () => stdout,
    kill: (signal = 'SIGTERM') => { if (!hasExited) child.kill(signal); },
    waitFor(predicate, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find(predicate);
          if (found) { cleanup(); resolve(found); return; }
          if (hasExited) { cleanup(); reject(new Error(`nabla ${args.join(' ')} exited before the awaited event; stderr:\n${stderr}`)); }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for an event from nabla ${args.join(' ')}; stderr:\n${stderr}`)); }, timeoutMs);
        const cleanup = (): void => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs `nabla ARGS…` to completion; resolves with exit code, JSON events and stderr. */
export async function runNabla(args: string[], options: StartOptions & { timeoutMs?: number } = {}) {
  const proc = startNabla(args, options);
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  return { code, signal, events: proc.events, stderr: proc.stderr(), stdout: proc.stdout() };
}

export interface Cluster {
  readonly coordinator: RunningProcess;
  readonly url: string;
  readonly port: number;
  readonly workers: RunningProcess[];
  /** Starts one more `nabla worker` for this cluster (options as for startNabla, e.g. a `prefix`). */
  addWorker(extraArgs?: string[], options?: StartOptions): RunningProcess;
  /** Kills everything still running. */
  stop(): Promise<void>;
}

/** A coordinator on 127.0.0.1:0 (port read from its `listening` event) and `workers` worker processes. */
export async function spawnCluster(options: { workers: number; args: string[] }): Promise<Cluster> {
  const coordinator = startNabla(['coordinator', '--listen', '127.0.0.1:0', '--json', ...options.args]);
  const listening = await coordinator.waitFor((e) => e.event === 'listening', 30_000);
  const port = listening.port as number;
  const url = `ws://127.0.0.1:${port}`;
  const workers: RunningProcess[] = [];
  const addWorker = (extraArgs: string[] = [], startOptions: StartOptions = {}): RunningProcess => {
    const worker = startNabla(['worker', '--connect', url, '--give-up-after', '20', ...extraArgs], startOptions);
    workers.push(worker);
    return worker;
  };
  for (let i = 0; i < options.workers; i++) addWorker();
  return {
    coordinator, url, port, workers, addWorker,
    async stop() {
      for (const proc of [coordinator, ...workers]) proc.kill('SIGKILL');
      await Promise.all([coordinator, ...workers].map((proc) => proc.exited));
    },
  };
}
