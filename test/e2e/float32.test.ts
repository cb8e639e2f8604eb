/**
 * --dtype float32 through the real cluster (coordinator and worker processes over loopback): workers compute and
 * exchange float32, the coordinator keeps float64 parameters. Results stay bit-identical across worker counts, pass
 * the TF.js reference check, agree with the float64 run to float32 precision, and a checkpoint records the type.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../shared/network/model-file.js';
import { runNabla } from '../support/cluster.js';
import { ofType, stepHashes } from '../support/events.js';
import { writeBlobsCsv } from '../support/csv-problem.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-float32-'));
const train = writeBlobsCsv({ rows: 600, features: 4, classes: 3, seed: 31, dir, name: 'train.csv' });
const test = writeBlobsCsv({ rows: 150, features: 4, classes: 3, seed: 32, dir, name: 'test.csv' });
const job = ['--data', `csv:${train}`, '--test', `csv:${test}`, '--sizes', '4,8,3', '--seed', '5', '--batch', '16', '--eta', '2', '--json'];
const float32 = [...job, '--dtype', 'float32'];
const steps = Math.ceil(600 / 16);


describe('--dtype float32', () => {
  it('gives bit-identical parameters after every step with 1 and 3 workers, and passes every reference check', async () => {
    const [one, three] = await Promise.all([
      runNabla(['train', ...float32, '--epochs', '2', '--workers', '1', '--check-every', '1']),
      runNabla(['train', ...float32, '--epochs', '2', '--workers', '3', '--check-every', '0']),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(three.code, three.stderr).toBe(0);
    expect(ofType(one.events, 'start')[0]).toMatchObject({ dtype: 'float32' });
    expect(stepHashes(one.events)).toHaveLength(2 * steps);
    expect(stepHashes(three.events)).toEqual(stepHashes(one.events));
    const checks = ofType(one.events, 'reference');
    expect(checks).toHaveLength(2 * steps);
    expect(checks.every((c) => c.ok === true)).toBe(true);
  });

  it('agrees with the float64 run to float32 precision, with parameters and gradients at half the bytes', async () => {
    const save64 = join(dir, 'f64.json'), save32 = join(dir, 'f32.json');
    const [f64, f32] = await Promise.all([
      runNabla(['train', ...job, '--epochs', '1', '--workers', '2', '--fan-out', 'all', '--check-every', '0', '--save', save64]),
      runNabla(['train', ...float32, '--epochs', '1', '--workers', '2', '--fan-out', 'all', '--check-every', '0', '--save', save32]),
    ]);
    expect(f64.code, f64.stderr).toBe(0);
    expect(f32.code, f32.stderr).toBe(0);
    const a = readModelFile(save64).params, b = readModelFile(save32).params;
    let worst = 0, scale = 0;
    for (let i = 0; i < a.weights.length; i++) {
      worst = Math.max(worst, Math.abs(a.weights[i] - b.weights[i]));
      scale = Math.max(scale, Math.abs(a.weights[i]));
    }
    // 38 steps of float32 gradients: differences of a few float32 roundings per step, far below the weights' scale.
    expect(worst / scale).toBeGreaterThan(0); // float32 really was used
    expect(worst / scale).toBeLessThan(1e-4);
    const done64 = ofType(f64.events, 'done')[0], done32 = ofType(f32.events, 'done')[0];
    expect(Math.abs((done32.testAccuracy as number) - (done64.testAccuracy as number))).toBeLessThanOrEqual(0.01);
    // Parameters out and gradients back are float32, half their float64 bytes; on this 59-parameter net the samples and
    // message framing, which do not shrink, are a third of the traffic, so the whole falls to about two thirds.
    expect((done32.bytesPerStep as number) / (done64.bytesPerStep as number)).toBeLessThan(0.75);
  });

  it('runs on the plain JS kernel too', async () => {
    const run = await runNabla(['train', ...float32, '--epochs', '2', '--workers', '2', '--kernel', 'js', '--check-every', '10']);
    expect(run.code, run.stderr).toBe(0);
    expect(ofType(run.events, 'start')[0]).toMatchObject({ kernel: 'js', dtype: 'float32' });
    expect(ofType(run.events, 'reference').every((c) => c.ok === true)).toBe(true);
    expect(ofType(run.events, 'done')[0].testAccuracy as number).toBeGreaterThan(0.9);
  });

  it('a float32 checkpoint resumes only as float32 (exit 2 naming the difference), and then continues exactly', async () => {
    const checkpoints = join(dir, 'ckpt');
    const whole = await runNabla(['train', ...float32, '--epochs', '2', '--workers', '1', '--check-every', '0']);
    const first = await runNabla(['train', ...float32, '--epochs', '1', '--workers', '1', '--check-every', '0', '--checkpoint-dir', checkpoints]);
    expect(first.code, first.stderr).toBe(0);
    const wrong = await runNabla(['train', ...job, '--epochs', '2', '--workers', '1', '--checkpoint-dir', checkpoints, '--resume']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('dtype: checkpoint has "float32", this run has "float64"');
    const rest = await runNabla(['train', ...float32, '--epochs', '2', '--workers', '2', '--check-every', '0', '--checkpoint-dir', checkpoints, '--resume']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(ofType(rest.events, 'done')[0].paramHash).toBe(ofType(whole.events, 'done')[0].paramHash);
  });
});
