/**
 * The shared-memory lane (shared/protocol/shm.ts) between real coordinator and worker processes on this host:
 * parameters and gradients leave the socket and the numbers stay the same bits; a worker that does not share memory
 * (`--no-shm`, or one in its own mount namespace with a /dev/shm of its own, as in a container) trains beside one
 * that does; a tmpfs that fills up mid-run and a frame referring to overwritten data lose nothing; no lane is left
 * behind in /dev/shm.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHM_ROOT } from '../../shared/protocol/shm.js';
import { runNabla, spawnCluster, startNabla } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';
import { ofType, stepHashes } from '../support/events.js';
import { startScriptedWorker } from '../support/scripted-worker.js';

// Weights above the lane's 64 KiB threshold: 40·300 + 300·10 = 15,000 (120 KB in float64); 40·600 + 600·10 = 30,000
// (120 KB in float32). Biases stay inline.
const train = writeBlobsCsv({ rows: 240, features: 40, classes: 10, seed: 17 });
const net = ['--sizes', '40,300,10'];
const job = ['--data', `csv:${train}`, '--epochs', '2', '--batch', '24', '--eta', '1', '--seed', '3', '--json', '--check-every', '0'];
const steps = 2 * (240 / 24);

/** Runs a command in a new mount namespace with a tmpfs of its own on /dev/shm: what a worker in a container sees. */
const OWN_TMPFS = ['unshare', '--mount', 'sh', '-c', `mount -t tmpfs tmpfs ${SHM_ROOT} && exec "$0" "$@"`];
const ownTmpfsProbe = spawnSync(OWN_TMPFS[0], [...OWN_TMPFS.slice(1), 'true'], { encoding: 'utf8' });
const ownTmpfsSkip = ownTmpfsProbe.status === 0 ? null : `unshare/mount unavailable (${(ownTmpfsProbe.stderr || String(ownTmpfsProbe.error)).trim()})`;
if (ownTmpfsSkip) console.warn(`shm.test.ts: the own-tmpfs case is skipped: ${ownTmpfsSkip}`);

/** Lane directories of these processes still in /dev/shm. */
const lanesOf = (pids: Array<number | undefined>): string[] =>
  readdirSync(SHM_ROOT).filter((name) => pids.some((pid) => pid !== undefined && new RegExp(`^nabla-\\d+-${pid}-`).test(name)));

describe.skipIf(!existsSync(SHM_ROOT))('shared memory between processes on one host', () => {
  it.each([
    ['float64', ['--sizes', '40,300,10']],
    ['float32', ['--sizes', '40,600,10', '--dtype', 'float32']],
  ])('%s: local workers move parameters and gradients through it, with the same bits as sockets and a fraction of their bytes', async (_, shape) => {
    const args = ['train', ...job, ...shape, '--workers', '2', '--fan-out', 'all'];
    const [shm, sockets] = await Promise.all([runNabla(args), runNabla([...args, '--no-shm'])]);
    expect(shm.code, shm.stderr).toBe(0);
    expect(sockets.code, sockets.stderr).toBe(0);
    expect(ofType(shm.events, 'worker-joined').map((e) => e.sharedMemory)).toEqual([true, true]);
    expect(ofType(sockets.events, 'worker-joined').map((e) => e.sharedMemory)).toEqual([false, false]);
    expect(stepHashes(shm.events)).toHaveLength(steps);
    expect(stepHashes(shm.events)).toEqual(stepHashes(sockets.events));
    const epoch2 = (run: typeof shm) => ofType(run.events, 'epoch')[1];
    // What stays on the socket: the samples (24 × 40 values) and the frames themselves.
    expect((epoch2(shm).bytesPerStep as number) / (epoch2(sockets).bytesPerStep as number)).toBeLessThan(0.2);
    // What went through shared memory instead, in whole weight arrays (120,000 bytes; biases stay inline): in each of
    // epoch 2's 10 steps both workers read the new weights and returned one weight-gradient block per aligned tree
    // node of their chunks (one each for an even split, more when measured speeds split the 8 chunks unevenly).
    const shared = (epoch2(shm).sharedMemoryBytesPerStep as number) * 10;
    expect(shared % 120_000).toBe(0);
    expect(shared / 120_000).toBeGreaterThanOrEqual(10 * (2 + 2));
    expect(shared / 120_000).toBeLessThanOrEqual(10 * (2 + 8));
    expect(epoch2(sockets).sharedMemoryBytesPerStep).toBe(0);
    expect(ofType(shm.events, 'done')[0].bytesShared).toBeGreaterThan(0);
  });

  it('a worker without it (as on another host) and one with it train together, bit-identical to sockets only', async () => {
    const reference = await runNabla(['train', ...job, ...net, '--workers', '2', '--fan-out', 'all', '--no-shm']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, ...net, '--min-workers', '2', '--fan-out', 'all'] });
    try {
      cluster.addWorker();
      cluster.addWorker(['--no-shm']);
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      expect(ofType(cluster.coordinator.events, 'worker-joined').map((e) => e.sharedMemory).sort()).toEqual([false, true]);
      expect(stepHashes(cluster.coordinator.events)).toEqual(stepHashes(reference.events));
      expect(done.paramHash).toBe(ofType(reference.events, 'done')[0].paramHash);
      await Promise.all([cluster.coordinator, ...cluster.workers].map((proc) => proc.exited));
      // Every process removed its lane on the way out.
      expect(lanesOf([cluster.coordinator.child.pid, ...cluster.workers.map((w) => w.child.pid)])).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });

  it.skipIf(ownTmpfsSkip !== null)('a worker with a /dev/shm of its own (as in another container) offers its lane, is not taken up, and trains over its socket', async () => {
    const reference = await runNabla(['train', ...job, ...net, '--workers', '2', '--fan-out', 'all', '--no-shm']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, ...net, '--min-workers', '2', '--fan-out', 'all'] });
    const elsewhere = cluster.addWorker(['--name', 'elsewhere'], { prefix: OWN_TMPFS });
    try {
      cluster.addWorker();
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      const joined = ofType(cluster.coordinator.events, 'worker-joined');
      expect(joined.find((e) => e.name === 'elsewhere')?.sharedMemory).toBe(false);
      expect(joined.find((e) => e.name !== 'elsewhere')?.sharedMemory).toBe(true);
      expect(done.paramHash).toBe(ofType(reference.events, 'done')[0].paramHash);
      expect((await elsewhere.exited).code, elsewhere.stderr()).toBe(0);
    } finally {
      elsewhere.kill('SIGKILL');
      await cluster.stop();
    }
  });

  it.skipIf(ownTmpfsSkip !== null)('when its tmpfs fills up, each side says so and carries on over the socket, losing nothing', async () => {
    const args = ['train', ...job, ...net, '--workers', '2', '--fan-out', 'all'];
    // 200 KiB: room for the first 120 KB parameter write, not for the workers' gradients or the next version.
    const tiny = ['unshare', '--mount', 'sh', '-c', `mount -t tmpfs -o size=200k tmpfs ${SHM_ROOT} && exec "$0" "$@"`];
    const [full, sockets] = await Promise.all([startNabla(args, { prefix: tiny }), runNabla([...args, '--no-shm'])]);
    expect((await full.exited).code, full.stderr()).toBe(0);
    expect(ofType(full.events, 'worker-joined').map((e) => e.sharedMemory)).toEqual([true, true]);
    const warning = ofType(full.events, 'warning').find((e) => /shared memory/.test(e.message as string));
    expect(warning?.message).toMatch(/shared memory stopped working: cannot write \/dev\/shm\/nabla-\d+-\d+-[0-9a-f]+\/slot\d \((ENOSPC|wrote \d+ of \d+ bytes)\); parameters go over the sockets from now on/);
    expect(full.stderr()).toMatch(/shared memory stopped working: cannot write .* \((ENOSPC|wrote \d+ of \d+ bytes)\); results go over the socket from now on/);
    expect(stepHashes(full.events)).toEqual(stepHashes(sockets.events));
  });

  it('refuses a worker whose frame refers to a slot written again since, re-issues its shard, and loses nothing', async () => {
    const reference = await runNabla(['train', ...job, ...net, '--workers', '1']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, ...net, '--min-workers', '2', '--fan-out', 'all'] });
    try {
      const liar = startScriptedWorker(cluster.url, (blocks) => blocks, 'reuse-slot');
      cluster.addWorker();
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      expect(await liar.closed).toBe(1002);
      const rejected = ofType(cluster.coordinator.events, 'rejected')[0];
      expect(rejected.reason).toMatch(/shared-memory slot \d holds write \d+\/\d+, not \d+: it was reused before this frame was read/);
      expect(stepHashes(cluster.coordinator.events)).toEqual(stepHashes(reference.events));
      expect(done.paramHash).toBe(ofType(reference.events, 'done')[0].paramHash);
    } finally {
      await cluster.stop();
    }
  });
});
