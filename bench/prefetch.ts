/**
 * npm run bench:prefetch — how long workers wait for samples, with and without prefetch: `nabla train` on
 * [784,30,10] mini-batch 100 (bundled digits, 2 workers), alternating --prefetch 0 and 2, reporting from the epoch
 * events the mean worker wait for samples per shard as a share of the mean step time (epochs 2.., epoch 1 warms up).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/nabla.js', import.meta.url));
const ROUNDS = 2;

function run(prefetch: number): { waitMs: number; stepMs: number; samplesPerSecond: number; paramHash: string } {
  const result = spawnSync(process.execPath, [CLI, 'train', '--data', 'mnist', '--sizes', '784,30,10', '--batch', '100', '--epochs', '6',
    '--workers', '2', '--check-every', '0', '--prefetch', String(prefetch), '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`nabla train exited ${result.status}: ${result.stderr}`);
  const epochs = result.stdout.split('\n').filter((line) => line.includes('"event":"epoch"')).map((line) => JSON.parse(line)).slice(1);
  const mean = (key: string): number => epochs.reduce((sum, e) => sum + e[key], 0) / epochs.length;
  return { waitMs: mean('dataWaitMsPerShard'), stepMs: mean('stepMs'), samplesPerSecond: mean('samplesPerSecond'), paramHash: epochs[epochs.length - 1].paramHash };
}

console.log('bench:prefetch: nabla train --data mnist --sizes 784,30,10 --batch 100 --epochs 6 --workers 2, epochs 2..6');
for (let round = 1; round <= ROUNDS; round++) {
  for (const prefetch of [0, 2]) {
    const r = run(prefetch);
    console.log(`round ${round} --prefetch ${prefetch}: step ${r.stepMs.toFixed(3)} ms, worker wait for samples ${r.waitMs.toFixed(3)} ms/shard ` +
      `= ${((100 * r.waitMs) / r.stepMs).toFixed(1)}% of the step, ${Math.round(r.samplesPerSecond)} samples/s, params ${r.paramHash}`);
  }
}
