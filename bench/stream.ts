/**
 * npm run bench:stream — streaming in bounded memory: generates 2,000,000 samples of 100 features as CSV on the
 * fly, pipes them into `nabla train --data csv:- --workers 2` and reports the peak RSS of the coordinator and of
 * each worker (sampled from /proc), samples/s, and bytes per sample on the wire.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Rng } from '../shared/rng.js';

const ROWS = Number(process.argv.find((a) => a.startsWith('--rows='))?.slice(7) ?? 2_000_000);
const FEATURES = 100;
const CLASSES = 10;
const CLI = fileURLToPath(new URL('../bin/nabla.js', import.meta.url));

/** Resident set size high-water mark of a process, in MiB (0 once it has exited). */
function peakRssMib(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

async function main(): Promise<void> {
  const args = ['train', '--data', 'csv:-', '--sizes', `${FEATURES},30,${CLASSES}`, '--batch', '100', '--epochs', '1',
    '--workers', '2', '--shuffle-buffer', '65536', '--json', '--check-every', '0'];
  console.log(`bench:stream: ${ROWS.toLocaleString('en')} rows × ${FEATURES} features of CSV on the fly → nabla ${args.join(' ')}`);
  const coordinator = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const peaks = new Map<number, number>();
  const sampler = setInterval(() => {
    for (const pid of [coordinator.pid as number, ...childrenOf(coordinator.pid as number)]) {
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, peakRssMib(pid)));
    }
  }, 200);
  let done: Record<string, unknown> | null = null;
  let epoch: Record<string, unknown> | null = null;
  createInterface({ input: coordinator.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event.event === 'done') done = event;
    if (event.event === 'epoch') epoch = event;
  });

  // Write rows as fast as the trainer takes them (backpressure), never holding more than a chunk of text.
  const rng = new Rng(2026);
  const started = performance.now();
  for (let row = 0; row < ROWS; row += 1000) {
    let text = '';
    for (let r = row; r < Math.min(ROWS, row + 1000); r++) {
      const label = rng.nextInt(CLASSES);
      const values = new Array<string>(FEATURES);
      for (let k = 0; k < FEATURES; k++) values[k] = (0.1 * label + 0.5 * rng.nextFloat()).toFixed(4);
      text += `${label},${values.join(',')}\n`;
    }
    if (!coordinator.stdin.write(text)) await new Promise((resolve) => coordinator.stdin.once('drain', resolve));
  }
  coordinator.stdin.end();
  const code = await new Promise<number | null>((resolve) => coordinator.on('exit', resolve));
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0 || !done || !epoch) throw new Error(`nabla train exited with ${code}`);
  const [coordinatorPeak, ...workerPeaks] = [peaks.get(coordinator.pid as number) ?? 0, ...[...peaks.entries()].filter(([pid]) => pid !== coordinator.pid).map(([, mib]) => mib)];
  const e = epoch as Record<string, number>;
  console.log(`peak RSS: coordinator ${coordinatorPeak.toFixed(0)} MiB (limit 300), workers ${workerPeaks.map((m) => m.toFixed(0)).join(', ')} MiB`);
  console.log(`samples/s: ${Math.round(e.samplesPerSecond)} (training), ${Math.round(ROWS / seconds)} end to end including CSV generation and parsing`);
  console.log(`wire: ${e.bytesSentPerSample.toFixed(0)} B/sample sent, ${e.bytesReceivedPerSample.toFixed(0)} B/sample received, ${(e.bytesPerStep / 1024).toFixed(0)} KiB/step`);
  if (coordinatorPeak >= 300) {
    console.log('FAIL: the coordinator went over 300 MiB');
    process.exitCode = 1;
  }
}

await main();
