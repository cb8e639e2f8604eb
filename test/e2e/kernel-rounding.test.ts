import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { jsGemm } from '../../shared/kernel/js-gemm.js';
import { roundingFingerprint } from '../../shared/kernel/rounding-probe.js';
import { runNabla, spawnCluster } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';
import { ofType } from '../support/events.js';
import { startScriptedWorker } from '../support/scripted-worker.js';

/**
 * Workers tell the coordinator how their kernel rounds (shared/kernel/rounding-probe.ts), and it warns once when
 * workers whose results it used differ: the bits then depend on which worker computed which chunk. The real case is
 * OpenBLAS on machines of other CPU families (it picks its inner kernels per CPU); here another OPENBLAS_CORETYPE
 * plays the other machine.
 */
const train = writeBlobsCsv({ rows: 200, features: 5, classes: 3, seed: 4 });
const oneJob = ['--data', `csv:${train}`, '--sizes', '5,7,3', '--epochs', '1', '--batch', '20', '--eta', '3', '--check-every', '0'];
/** Every step split over both workers, so both workers' results are used. */
const job = [...oneJob, '--fan-out', 'all', '--min-workers', '2'];
const warningsOf = (events: Array<Record<string, unknown>>): string[] =>
  ofType(events, 'warning').map((e) => String(e.message)).filter((message) => message.includes('round differently'));
/** A worker as if on a CPU of another family: OpenBLAS's SSE3 kernels, which run on any x86-64. */
const OLDER_CPU = { prefix: ['env', 'OPENBLAS_CORETYPE=Prescott'] };
const hasBlas = spawnSync(process.execPath, ['-e', "require('nblas')"], { stdio: 'ignore' }).status === 0;

describe('workers whose kernels round differently', () => {
  it.each([
    ['a fingerprint of another machine', 'ffffffffffffffff', true],
    ['the fingerprint of the JS kernel', roundingFingerprint(jsGemm), false],
  ])('a scripted JS worker claiming %s (%s) beside a real JS worker: warned %s', async (_, rounding, warns) => {
    const cluster = await spawnCluster({ workers: 0, args: [...job, '--kernel', 'js'] });
    try {
      startScriptedWorker(cluster.url, (blocks) => blocks, 'none', null, rounding);
      cluster.addWorker(['--kernel', 'js']);
      await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      const joined = ofType(cluster.coordinator.events, 'worker-joined').map((e) => e.rounding).sort();
      expect(joined).toEqual([rounding, roundingFingerprint(jsGemm)].sort());
      const warnings = warningsOf(cluster.coordinator.events);
      if (warns) {
        expect(warnings).toHaveLength(1);
        // Each kind with the workers that computed with it, so the odd machine can be found.
        const idOf = (bits: string): unknown => ofType(cluster.coordinator.events, 'worker-joined').find((e) => e.rounding === bits)?.workerId;
        expect(warnings[0]).toContain(`js rounding ffffffffffffffff on ${idOf('ffffffffffffffff')}`);
        expect(warnings[0]).toContain(`js rounding ${roundingFingerprint(jsGemm)} on ${idOf(roundingFingerprint(jsGemm))}`);
        expect(warnings[0]).toMatch(/no longer bit-identical .*--kernel js/);
      } else {
        expect(warnings).toEqual([]);
      }
    } finally {
      await cluster.stop();
    }
  });

  it.skipIf(!hasBlas || process.arch !== 'x64')('two real OpenBLAS workers, one as if on an older CPU (OPENBLAS_CORETYPE=Prescott): warned', async () => {
    const cluster = await spawnCluster({ workers: 0, args: job });
    try {
      cluster.addWorker(['--kernel', 'blas']);
      cluster.addWorker(['--kernel', 'blas'], OLDER_CPU);
      await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      const joined = ofType(cluster.coordinator.events, 'worker-joined');
      expect(joined.map((e) => e.kernel)).toEqual(['openblas', 'openblas']);
      expect(new Set(joined.map((e) => e.rounding)).size, 'one name, two roundings').toBe(2);
      expect(warningsOf(cluster.coordinator.events)).toEqual([expect.stringMatching(/openblas rounding [0-9a-f]{16} on w\d; openblas rounding [0-9a-f]{16} on w\d\)/)]);
    } finally {
      await cluster.stop();
    }
  });

  it.skipIf(!hasBlas || process.arch !== 'x64')('with --mixed-kernels refuse, that worker is refused at its hello and the run keeps one rounding', async () => {
    const reference = await runNabla(['train', ...oneJob, '--kernel', 'blas', '--workers', '1', '--json']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, '--mixed-kernels', 'refuse'] });
    try {
      cluster.addWorker(['--kernel', 'blas']);
      await cluster.coordinator.waitFor((e) => e.event === 'worker-joined');
      const older = cluster.addWorker(['--kernel', 'blas'], OLDER_CPU);
      expect((await older.exited).code, 'refused: the worker exits 1').toBe(1);
      expect(older.stderr()).toMatch(/its kernel openblas \(rounding [0-9a-f]{16}\) is not the run's openblas \(rounding [0-9a-f]{16}\).*--mixed-kernels refuse.*--kernel js/);
      cluster.addWorker(['--kernel', 'blas']); // a second one like the first: now the run has its two workers
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      expect(ofType(cluster.coordinator.events, 'rejected')).toHaveLength(1);
      expect(done.workersSeen).toBe(2);
      expect(warningsOf(cluster.coordinator.events)).toEqual([]);
      expect(done.paramHash, 'the bits of one worker of the first kind').toBe(ofType(reference.events, 'done')[0].paramHash);
    } finally {
      await cluster.stop();
    }
  });
});
