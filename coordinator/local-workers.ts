import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI entry point, to start worker processes with. */
export const cliPath = fileURLToPath(new URL('../bin/nabla.js', import.meta.url));

export interface LocalWorkers {
  readonly processes: ChildProcess[];
  /** Waits for every worker to exit (they do when training ends), killing stragglers after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts `count` worker processes on this machine, connected over loopback like any remote worker.
 * Their log lines go to our stderr, prefixed with the worker's number.
 */
export function spawnLocalWorkers(count: number, url: string, extraArgs: string[] = [], env: Record<string, string> = {}): LocalWorkers {
  const processes = Array.from({ length: count }, (_, i) => {
    const child = spawn(process.execPath, [cliPath, 'worker', '--connect', url, '--name', `local-${i + 1}`, ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      for (const line of text.split('\n')) if (line.trim()) process.stderr.write(`[worker ${i + 1}] ${line}\n`);
    });
    return child;
  });
  return {
    processes,
    async stop(graceMs) {
      await Promise.all(processes.map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
      })));
    },
  };
}
