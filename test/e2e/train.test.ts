import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../shared/network/model-file.js';
import { CLI, runNabla, spawnCluster } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';
import { stepHashes } from '../support/events.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-e2e-'));
const train = writeBlobsCsv({ rows: 600, features: 4, classes: 3, seed: 11, dir, name: 'train.csv' });
const test = writeBlobsCsv({ rows: 150, features: 4, classes: 3, seed: 12, dir, name: 'test.csv' });
const job = ['--data', `csv:${train}`, '--test', `csv:${test}`, '--sizes', '4,6,3', '--epochs', '3', '--batch', '16', '--eta', '4', '--seed', '5'];


describe('nabla train (real coordinator and worker processes over loopback)', () => {
  it('gives bit-identical parameters after every step with 1 and with 3 workers', async () => {
    const [one, three] = await Promise.all([
      runNabla(['train', ...job, '--workers', '1', '--json']),
      runNabla(['train', ...job, '--workers', '3', '--json']),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(three.code, three.stderr).toBe(0);
    const hashes = stepHashes(one.events);
    expect(hashes).toHaveLength(3 * Math.ceil(600 / 16));
    expect(stepHashes(three.events)).toEqual(hashes);
    const done = three.events.find((e) => e.event === 'done');
    expect(done?.testAccuracy).toBeGreaterThan(0.9);
    const epochs = three.events.filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(3);
    expect(epochs[2]).toMatchObject({ epoch: 3, testAccuracy: expect.any(Number), trainCost: expect.any(Number), samplesPerSecond: expect.any(Number) });
    // The default reference check (--check-every auto): step 0, then none sooner than 100 steps after the last.
    expect(one.events.find((e) => e.event === 'start')?.checkEvery).toBe('auto');
    const checked = one.events.filter((e) => e.event === 'reference').map((e) => e.step as number);
    expect(checked[0]).toBe(0);
    expect(checked.every((step, i) => i === 0 || step - checked[i - 1] >= 100)).toBe(true);
    expect(one.events.filter((e) => e.event === 'reference').every((e) => e.ok === true)).toBe(true);
  });

  it('with --fan-out auto measures each fan-out, reports its choice, and computes the same bits as with every worker', async () => {
    // 4 chunks of one sample (auto would make one chunk of 4, which only one worker can take).
    const small = [...job, '--epochs', '2', '--batch', '4', '--chunks', '4', '--check-every', '0', '--json'];
    const [auto, all] = await Promise.all([
      runNabla(['train', ...small, '--workers', '2', '--fan-out', 'auto']),
      runNabla(['train', ...small, '--workers', '2', '--fan-out', 'all']),
    ]);
    expect(auto.code, auto.stderr).toBe(0);
    expect(all.code, all.stderr).toBe(0);
    const choices = auto.events.filter((e) => e.event === 'fan-out');
    expect(choices.length).toBeGreaterThanOrEqual(1); // 300 steps: the trials of 2 and 1 workers take 70
    expect(choices[0]).toMatchObject({ workers: 2, fanOut: expect.any(Number) });
    expect((choices[0].trials as Array<{ fanOut: number }>).map((t) => t.fanOut)).toEqual([2, 1]);
    expect(all.events.filter((e) => e.event === 'fan-out')).toHaveLength(0);
    expect(stepHashes(auto.events)).toEqual(stepHashes(all.events));
  });

  it('says in plain text what the numbers depend on: the chunks the mini-batch is cut into, and the check', async () => {
    // job says --epochs 3: the last occurrence wins, also when it is 1 (yargs alone would make it 3 + 1).
    const run = await runNabla(['train', ...job, '--epochs', '1', '--workers', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('; 1 epoch, mini-batch 16 in 4 chunks, eta 4,');
    expect(run.stdout).toContain('TF.js reference check (wasm) of the first step, then within 2% of the time');
  });

  it('ends bit-identical after several epochs with 1, 2, 3, 5 and 8 workers', async () => {
    const finalHashes: string[] = [];
    for (const workers of [1, 2, 3, 5, 8]) {
      const run = await runNabla(['train', ...job, '--epochs', '4', '--batch', '37', '--workers', String(workers), '--json', '--check-every', '0']);
      expect(run.code, run.stderr).toBe(0);
      const joined = run.events.filter((e) => e.event === 'worker-joined').length;
      expect(joined).toBe(workers);
      finalHashes.push(run.events.find((e) => e.event === 'done')?.paramHash as string);
    }
    expect(new Set(finalHashes).size).toBe(1);
  });

  it('trains with a coordinator and two separately started workers, saves the model, and the workers exit 0', async () => {
    const save = join(dir, 'model.json');
    const cluster = await spawnCluster({ workers: 2, args: [...job, '--save', save, '--min-workers', '2'] });
    try {
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done');
      expect((await cluster.coordinator.exited).code).toBe(0);
      for (const worker of cluster.workers) expect((await worker.exited).code).toBe(0);
      const model = readModelFile(save);
      expect(model.layout.sizes).toEqual([4, 6, 3]);
      expect(done.testAccuracy).toBeGreaterThan(0.9);
      const joined = cluster.coordinator.events.filter((e) => e.event === 'worker-joined');
      expect(joined).toHaveLength(2);
    } finally {
      await cluster.stop();
    }
  });

  it('starts from --init and --save writes the seed orientation that --init reads back', async () => {
    const first = join(dir, 'first.json');
    const again = join(dir, 'again.json');
    const a = await runNabla(['train', ...job, '--epochs', '1', '--workers', '1', '--save', first, '--json']);
    expect(a.code, a.stderr).toBe(0);
    const json = JSON.parse(readFileSync(first, 'utf8'));
    expect(json.weights[0]).toHaveLength(6);
    expect(json.weights[0][0]).toHaveLength(4);
    const b = await runNabla(['train', ...job, '--epochs', '1', '--workers', '2', '--init', first, '--save', again, '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync(again)).toBe(true);
    expect(b.events.find((e) => e.event === 'step')?.step).toBe(1);
  });
  it('carries on to the end when its stdout reader goes away (nabla train --json | head -1)', async () => {
    const save = join(dir, 'after-epipe.json');
    const child = spawn(process.execPath, [CLI, 'train', ...job, '--workers', '1', '--json', '--save', save], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.stdout.once('data', () => child.stdout.destroy()); // like head -1: read a little, then close the pipe
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain('EPIPE');
    expect(readModelFile(save).layout.sizes).toEqual([4, 6, 3]);
  });
});

describe('nabla usage errors (exit code 2, a message that says what to do)', () => {
  it.each([
    [['train', '--bogus'], 'Unknown argument: bogus'],
    [['train', '--sizes', '784,x,10'], '--sizes must be comma-separated integers'],
    [['train', '--data', 'idx:/no/such/dir'], '/no/such/dir'],
    [['train', '--data', 'parquet:x'], 'unknown data spec "parquet:x"'],
    [['train', '--data', `csv:${train}`, '--sizes', '5,3,3'], 'use --sizes 4,…,3'],
    [['train', '--init', '/no/such/model.json'], 'cannot read model file /no/such/model.json'],
    [['train', '--test', `idx:${dir}`], 'missing t10k-images-idx3-ubyte'],
    [['worker', '--connect', 'localhost:8080'], '--connect must be a ws:// or wss:// URL'],
    [['train', '--eta', 'abc'], '--eta must be a number, got "abc"'],
    [['train', '--batch=ten'], '--batch must be a number, got "ten"'],
    [['train', '--epochs'], '--epochs needs a number after it'],
    [['train', '--workers', '100000'], 'would start 100000 worker processes on this machine'],
    [['verify', '--model', 'm.json', '--workers', '0'], '--workers must be an integer ≥ 1, got 0'],
    [[], 'Choose a command'],
  ])('nabla %j', async (args, message) => {
    const result = await runNabla(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('    at ');
  });
});
