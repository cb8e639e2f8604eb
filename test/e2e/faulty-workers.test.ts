import type { Floats } from '../../shared/kernel/dtype.js';
import { describe, expect, it } from 'vitest';
import { runNabla, spawnCluster } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';
import { startScriptedWorker } from '../support/scripted-worker.js';

const train = writeBlobsCsv({ rows: 400, features: 5, classes: 3, seed: 3 });
const job = ['--data', `csv:${train}`, '--sizes', '5,7,4,3', '--epochs', '2', '--batch', '20', '--eta', '3', '--kernel', 'js', '--fan-out', 'all'];

describe('workers that misbehave while speaking the protocol correctly', () => {
  it.each([
    ['one layer\'s sign flipped', 2, (nablaW: Floats, offset: number, count: number) => { for (let i = offset; i < offset + count; i++) nablaW[i] = -nablaW[i]; }],
    ['one value perturbed by 1%', 1, (nablaW: Floats, offset: number) => { nablaW[offset + 3] *= 1.01; }],
  ])('a worker returning gradients with %s fails the TF.js reference check, naming layer %i', async (_, layer, tamper) => {
    const cluster = await spawnCluster({ workers: 0, args: [...job, '--check-every', '1'] });
    try {
      startScriptedWorker(cluster.url, (blocks, _shard, layout) => {
        const { wOffset, nIn, nOut } = layout.layers[layer - 1];
        for (const block of blocks) tamper(block.nablaW, wOffset, nIn * nOut);
        return blocks;
      });
      const error = await cluster.coordinator.waitFor((e) => e.event === 'error');
      expect(error.message).toMatch(new RegExp(`reference check FAILED at step 0: layer ${layer} \\(\\d+→\\d+\\) weights\\[\\d+\\]\\[\\d+\\]: cluster .* TF\\.js reference .* relative error .* > tolerance`));
      expect((await cluster.coordinator.exited).code).toBe(1);
    } finally {
      await cluster.stop();
    }
  });

  it('a worker that takes shards and never answers is dropped after --shard-timeout; the job finishes with the right numbers', async () => {
    const reference = await runNabla(['train', ...job, '--workers', '1', '--json', '--check-every', '0']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, '--shard-timeout', '1', '--min-workers', '2', '--check-every', '0'] });
    try {
      const mute = startScriptedWorker(cluster.url, () => null);
      cluster.addWorker(['--kernel', 'js']);
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      expect(done.paramHash).toBe(reference.events.find((e) => e.event === 'done')?.paramHash);
      expect(mute.shardsSeen).toBeGreaterThan(0);
      expect(await mute.closed).toBe(1008);
      const rejected = cluster.coordinator.events.find((e) => e.event === 'rejected');
      expect(rejected?.reason).toContain('no result for its shard within 1 s');
    } finally {
      await cluster.stop();
    }
  });
});
