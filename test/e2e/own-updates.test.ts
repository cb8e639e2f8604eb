/**
 * Workers that apply updates themselves (messages.ts, Shard.update): a worker that computes a whole mini-batch
 * applies the step's update to its own float64 parameters instead of being sent the coordinator's, and computes the
 * next step before its shard arrives. Real coordinator and worker processes: the parameters after every step are the
 * same bits as when every replica is sent the coordinator's parameters; only gradients cross the wire; a worker that
 * applies updates differently is caught by the parameters' fingerprint, refused, and loses nothing.
 */
import { describe, expect, it } from 'vitest';
import { runNabla, spawnCluster, type Cluster } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';
import { ofType, stepHashes } from '../support/events.js';
import { startScriptedWorker } from '../support/scripted-worker.js';

const train = writeBlobsCsv({ rows: 240, features: 40, classes: 10, seed: 23 });
const job = ['--data', `csv:${train}`, '--epochs', '2', '--batch', '24', '--eta', '1', '--seed', '5', '--json', '--check-every', '0'];
const steps = 2 * (240 / 24);
// 40·300 + 300·10 = 15,000 weights: 120,000 bytes in float64, and with 40,600,10 in float32 (biases stay inline).
const WEIGHT_BYTES = 120_000;

describe('workers that apply updates themselves', () => {
  it.each([
    ['float64', ['--sizes', '40,300,10']],
    ['float32', ['--sizes', '40,600,10', '--dtype', 'float32']],
  ])('%s: a worker computing every step gets no parameters after the first, runs ahead, and every step has the bits of workers sent parameters', async (_, shape) => {
    const [own, sent] = await Promise.all([
      runNabla(['train', ...job, ...shape, '--workers', '1']),
      // Split over 2 workers, no worker computes a whole step: both are sent the coordinator's parameters every step.
      runNabla(['train', ...job, ...shape, '--workers', '2', '--fan-out', 'all']),
    ]);
    expect(own.code, own.stderr).toBe(0);
    expect(sent.code, sent.stderr).toBe(0);
    expect(stepHashes(own.events)).toHaveLength(steps);
    expect(stepHashes(own.events)).toEqual(stepHashes(sent.events));
    expect(ofType(own.events, 'done')[0].paramHash).toBe(ofType(sent.events, 'done')[0].paramHash);
    // Epoch 2 through shared memory: each step's gradient (one block: the root of its 4 chunks) and no parameters.
    expect(ofType(own.events, 'epoch')[1].sharedMemoryBytesPerStep, own.stderr).toBe(WEIGHT_BYTES);
    expect(ofType(sent.events, 'epoch')[1].sharedMemoryBytesPerStep).toBeGreaterThanOrEqual(4 * WEIGHT_BYTES);
    // The worker says how many it computed before their shard arrived (how many depends on timing: at least one).
    const ahead = /computed (\d+) shards, (\d+) of them ahead on parameters from its own updates/.exec(own.stderr);
    expect(ahead, own.stderr).not.toBeNull();
    expect(Number(ahead?.[1])).toBe(steps);
    expect(Number(ahead?.[2])).toBeGreaterThanOrEqual(1);
  });

  it('the same holds over sockets only (workers on other machines)', async () => {
    const args = ['train', ...job, '--sizes', '40,300,10', '--workers', '1', '--no-shm'];
    const [own, sent] = await Promise.all([runNabla(args), runNabla(['train', ...job, '--sizes', '40,300,10', '--workers', '2', '--fan-out', 'all', '--no-shm'])]);
    expect(own.code, own.stderr).toBe(0);
    expect(stepHashes(own.events)).toEqual(stepHashes(sent.events));
    // Per step: the gradient (120 KB) and the samples (24 × 40 bytes); parameters would add another 120 KB.
    expect(ofType(own.events, 'epoch')[1].bytesPerStep as number).toBeLessThan(1.2 * WEIGHT_BYTES);
  });

  // The scripted worker computes with the JS kernel; so do the reference and the real worker beside it (GEMM bits
  // depend on the kernel).
  const scripted = ['--sizes', '40,300,10', '--kernel', 'js'];

  /** Plays `scene` on a coordinator that starts with no worker, then compares every step with workers sent parameters. */
  async function againstReference(scene: (cluster: Cluster) => Promise<void>): Promise<void> {
    const reference = await runNabla(['train', ...job, ...scripted, '--workers', '2', '--fan-out', 'all']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, ...scripted, '--min-workers', '1'] });
    try {
      await scene(cluster);
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
      expect(stepHashes(cluster.coordinator.events)).toEqual(stepHashes(reference.events));
      expect(done.paramHash).toBe(ofType(reference.events, 'done')[0].paramHash);
    } finally {
      await cluster.stop();
    }
  }

  it.each([false, true])('refuses a worker whose own update gives other parameters (its fingerprint differs), and loses nothing (running ahead: %s)', (runsAhead) => againstReference(async (cluster) => {
    // Alone, it computes whole steps and applies each update itself, with a learning rate a millionth off. Running
    // ahead, its result for the second step comes before that step starts: the coordinator keeps it until then, and
    // refuses it once the step's shard is out (the worker may or may not see that shard before the close).
    const skewed = startScriptedWorker(cluster.url, (blocks) => blocks, 'none', { rule: 'skewed', runsAhead });
    expect(await skewed.closed).toBe(1008);
    expect(skewed.shardsSeen).toBeGreaterThanOrEqual(runsAhead ? 1 : 2);
    expect(skewed.shardsSeen).toBeLessThanOrEqual(2);
    const rejected = ofType(cluster.coordinator.events, 'rejected')[0];
    expect(rejected.reason).toMatch(/its parameters v1, from its own update, have the fingerprint \S+ but ours \S+: it applies updates differently/);
    cluster.addWorker(['--kernel', 'js']);
  }));

  it.each([false, true])('an honest scripted worker that applies updates itself is taken at its word and ends bit-identical (running ahead: %s)', (runsAhead) => againstReference(async (cluster) => {
    const honest = startScriptedWorker(cluster.url, (blocks) => blocks, 'none', { rule: 'honest', runsAhead });
    await cluster.coordinator.waitFor((e) => e.event === 'done', 60_000);
    // And its close: the last shard frame may still be on its way when `done` is printed (running ahead, the last
    // step ends as soon as its shard is out); the socket closes only after it.
    expect(await honest.closed).toBe(1000);
    expect(honest.shardsSeen).toBe(steps);
    // Only the welcome carried parameters: after it, results came back and nothing was sent but shards.
    expect(ofType(cluster.coordinator.events, 'epoch')[1].bytesPerStep as number).toBeLessThan(1.2 * WEIGHT_BYTES);
  }));
});
