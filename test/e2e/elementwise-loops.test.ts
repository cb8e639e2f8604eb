/**
 * The C elementwise loops (native/elementwise.c) and their TypeScript twins give the same bits end to end: a run with
 * every process on the TypeScript loops (NABLA_NATIVE=off, as where the addon could not be built), runs on the C
 * loops with and without their AVX2 path, and a cluster that mixes them (a worker applying updates itself on one, the coordinator checking them on the
 * other) produce the same parameters after every step. Real coordinator and worker processes over loopback.
 */
import { describe, expect, it } from 'vitest';
import { nativeElementwise } from '../../shared/kernel/elementwise.js';
import { runNabla, spawnCluster } from '../support/cluster.js';
import { ofType, stepHashes } from '../support/events.js';

const job = ['--data', 'mnist', '--sizes', '784,16,10', '--batch', '20', '--epochs', '1', '--seed', '3', '--check-every', '0', '--json'];
const TS_LOOPS = { NABLA_NATIVE: 'off' };

describe('elementwise loops end to end', () => {
  it('trains on the TypeScript loops alone, and says so', async () => {
    const ts = await runNabla(['train', ...job, '--workers', '2', '--dtype', 'float32'], { env: TS_LOOPS });
    expect(ts.code, ts.stderr).toBe(0);
    expect(ofType(ts.events, 'start')[0].kernelDescription).toMatch(/\+ TypeScript loops$/);
    expect(stepHashes(ts.events)).toHaveLength(400);
  });

  describe.skipIf(nativeElementwise === null)('with the C addon built', () => {
    it.each(['float64', 'float32'])('gives the TypeScript loops\' parameters after every step (%s), in a mixed cluster too', async (dtype) => {
      const args = [...job, '--dtype', dtype];
      // NABLA_NATIVE_SCALAR: the C loops without their AVX2 path, one value at a time.
      const [c, scalar, ts] = await Promise.all([
        runNabla(['train', ...args, '--workers', '2', '--fan-out', 'all']),
        runNabla(['train', ...args, '--workers', '2', '--fan-out', 'all'], { env: { NABLA_NATIVE_SCALAR: '1' } }),
        runNabla(['train', ...args, '--workers', '2', '--fan-out', 'all'], { env: TS_LOOPS }),
      ]);
      for (const run of [c, scalar, ts]) expect(run.code, run.stderr).toBe(0);
      expect(ofType(c.events, 'start')[0].kernelDescription).toMatch(/\+ C loops( \(AVX2\))?$/);
      expect(ofType(scalar.events, 'start')[0].kernelDescription).toMatch(/\+ C loops$/);
      expect(stepHashes(c.events)).toHaveLength(400);
      expect(stepHashes(scalar.events)).toEqual(stepHashes(c.events));
      expect(stepHashes(ts.events)).toEqual(stepHashes(c.events));

      // One worker on the TypeScript loops computes every step and applies its updates itself; the coordinator, on
      // the C loops, applies its own and refuses any result whose parameters' fingerprint differs.
      const cluster = await spawnCluster({ workers: 0, args: [...args, '--min-workers', '1'] });
      try {
        cluster.addWorker([], { env: TS_LOOPS });
        const code = await cluster.coordinator.exited.then((exit) => exit.code);
        expect(code, cluster.coordinator.stderr()).toBe(0);
        expect(stepHashes(cluster.coordinator.events)).toEqual(stepHashes(c.events));
        const done = ofType(cluster.coordinator.events, 'done')[0];
        expect(done).toMatchObject({ droppedResults: 0, reissuedShards: 0 });
      } finally {
        await cluster.stop();
      }
    }, 120_000);
  });
});
