/**
 * The book's improved network through the real cluster (coordinator and worker processes over loopback):
 * cross-entropy, L2 and scaled initialisation stay bit-identical across worker counts and are checked by the TF.js
 * reference; the η schedule and early stopping follow the rules in coordinator/plateau.ts and survive a resume.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { afterEpoch, initialPlateau, type PlateauRules } from '../../coordinator/plateau.js';
import { runNabla } from '../support/cluster.js';
import { ofType, stepHashes, type Events } from '../support/events.js';
import { writeBlobsCsv } from '../support/csv-problem.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-improved-'));
const train = writeBlobsCsv({ rows: 600, features: 4, classes: 3, seed: 21, dir, name: 'train.csv' });
const test = writeBlobsCsv({ rows: 150, features: 4, classes: 3, seed: 22, dir, name: 'test.csv' });
const data = ['--data', `csv:${train}`, '--test', `csv:${test}`, '--sizes', '4,8,3', '--seed', '3'];
const improved = [...data, '--cost', 'cross-entropy', '--lambda', '2', '--init', 'scaled', '--batch', '16', '--eta', '0.5'];


describe('cross-entropy, L2 and scaled init through the cluster', () => {
  it('give bit-identical parameters after every step with 1 and with 3 workers, and pass every reference check', async () => {
    const [one, three] = await Promise.all([
      runNabla(['train', ...improved, '--epochs', '3', '--workers', '1', '--json', '--check-every', '1']),
      runNabla(['train', ...improved, '--epochs', '3', '--workers', '3', '--json']),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(three.code, three.stderr).toBe(0);
    expect(stepHashes(one.events)).toHaveLength(3 * Math.ceil(600 / 16));
    expect(stepHashes(three.events)).toEqual(stepHashes(one.events));
    const checks = ofType(one.events, 'reference');
    expect(checks).toHaveLength(3 * Math.ceil(600 / 16));
    expect(checks.every((c) => c.ok === true)).toBe(true);
    expect(ofType(one.events, 'start')[0]).toMatchObject({ cost: 'cross-entropy', lambda: 2, init: 'scaled' });
    expect((ofType(three.events, 'done')[0].testAccuracy as number)).toBeGreaterThan(0.9);
  });

  it('each option changes the result (none is silently ignored)', async () => {
    const runs = await Promise.all([
      [...data, '--batch', '16', '--eta', '0.5'],
      [...data, '--batch', '16', '--eta', '0.5', '--cost', 'cross-entropy'],
      [...data, '--batch', '16', '--eta', '0.5', '--lambda', '2'],
      [...data, '--batch', '16', '--eta', '0.5', '--init', 'scaled'],
    ].map((args) => runNabla(['train', ...args, '--epochs', '1', '--workers', '1', '--json', '--check-every', '0'])));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const hashes = runs.map((run) => ofType(run.events, 'done')[0].paramHash);
    expect(new Set(hashes).size).toBe(4);
  });

  it('--save records the cost, and a model trained with cross-entropy says so', async () => {
    const save = join(dir, 'ce.json');
    const run = await runNabla(['train', ...improved, '--epochs', '1', '--workers', '1', '--save', save, '--json', '--check-every', '0']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(save, 'utf8'))).toMatchObject({ cost: 'cross-entropy', lambda: 2 });
  });
});

describe('η schedule and early stopping', () => {
  // A large η on a small net: the accuracy soon stops improving, so the rules fire within a few epochs.
  const plateauJob = [...data, '--batch', '10', '--eta', '8', '--cost', 'cross-entropy', '--check-every', '0', '--json'];

  it('halve-on-plateau halves η exactly when the rules say, and --stop-after ends the run', async () => {
    const rules: PlateauRules = { etaSchedule: 'halve-on-plateau', plateauEpochs: 1, stopAfterEpochs: 4 };
    const run = await runNabla(['train', ...plateauJob, '--epochs', '40', '--workers', '2', '--eta-schedule', 'halve-on-plateau', '--plateau', '1', '--stop-after', '4']);
    expect(run.code, run.stderr).toBe(0);
    const epochs = ofType(run.events, 'epoch');
    // Replay the rules on the accuracies the run reported: the η of every epoch and where it stopped must match.
    let state = initialPlateau(8);
    let stopAt = 0;
    for (const epoch of epochs) {
      expect(epoch.eta).toBe(state.eta);
      const decision = afterEpoch(state, epoch.epoch as number, epoch.testAccuracy as number, rules);
      state = decision.state;
      if (decision.stop) {
        stopAt = epoch.epoch as number;
        break;
      }
    }
    expect(ofType(run.events, 'eta').length).toBeGreaterThan(0);
    expect(stopAt).toBeGreaterThan(0);
    expect(epochs).toHaveLength(stopAt);
    const stopped = ofType(run.events, 'stopped-early')[0];
    expect(stopped).toMatchObject({ epoch: stopAt, bestAccuracy: state.bestAccuracy, bestEpoch: state.bestEpoch });
    expect(ofType(run.events, 'done')[0]).toMatchObject({ epochs: stopAt, stoppedEarly: stopped.reason });
  });

  it('--save-best keeps the model of the best epoch (not the last), which scores that accuracy', async () => {
    const best = join(dir, 'best.json'), last = join(dir, 'last.json');
    const run = await runNabla(['train', ...plateauJob, '--epochs', '40', '--workers', '2', '--stop-after', '4', '--save-best', best, '--save', last]);
    expect(run.code, run.stderr).toBe(0);
    const saves = ofType(run.events, 'saved-best');
    const accuracies = saves.map((e) => e.testAccuracy as number);
    expect(accuracies).toEqual([...accuracies].sort((a, b) => a - b)); // each save beats the one before
    expect(new Set(accuracies).size).toBe(accuracies.length);
    const stopped = ofType(run.events, 'stopped-early')[0];
    expect(saves.at(-1)).toMatchObject({ epoch: stopped.bestEpoch, testAccuracy: stopped.bestAccuracy, path: best });
    expect(stopped.epoch as number).toBeGreaterThan(stopped.bestEpoch as number); // the last epoch was not the best
    const scored = await runNabla(['eval', '--model', best, '--data', `csv:${test}`, '--json']);
    expect(scored.code, scored.stderr).toBe(0);
    expect(JSON.parse(scored.stdout).accuracy).toBe(stopped.bestAccuracy);
    expect(JSON.parse(readFileSync(best, 'utf8'))).toMatchObject({ epochs: stopped.bestEpoch, testAccuracy: stopped.bestAccuracy });
    expect(readFileSync(best, 'utf8')).not.toBe(readFileSync(last, 'utf8'));
  });

  it('a run resumed from a checkpoint continues the schedule exactly (same η, same stop, same bits)', async () => {
    const schedule = ['--eta-schedule', 'halve-on-plateau', '--plateau', '1', '--stop-after', '6'];
    const checkpoints = join(dir, 'ckpt');
    const whole = await runNabla(['train', ...plateauJob, ...schedule, '--epochs', '12', '--workers', '1']);
    const first = await runNabla(['train', ...plateauJob, ...schedule, '--epochs', '3', '--workers', '1', '--checkpoint-dir', checkpoints]);
    const rest = await runNabla(['train', ...plateauJob, ...schedule, '--epochs', '12', '--workers', '2', '--checkpoint-dir', checkpoints, '--resume']);
    for (const run of [whole, first, rest]) expect(run.code, run.stderr).toBe(0);
    expect(ofType(rest.events, 'resumed')[0]).toMatchObject({ epoch: 4 });
    const etas = (events: Events) => ofType(events, 'epoch').map((e) => [e.epoch, e.eta, e.testAccuracy]);
    expect([...etas(first.events), ...etas(rest.events)]).toEqual(etas(whole.events));
    expect(ofType(rest.events, 'done')[0].paramHash).toBe(ofType(whole.events, 'done')[0].paramHash);
    expect(ofType(rest.events, 'done')[0].stoppedEarly).toBe(ofType(whole.events, 'done')[0].stoppedEarly);
  });

  it('stops with a clear error (exit 1) when the update diverges, keeping the checkpoints it wrote', async () => {
    const checkpoints = join(dir, 'diverged');
    const run = await runNabla(['train', ...data, '--eta', '1e308', '--lambda', '1', '--epochs', '2', '--workers', '1', '--check-every', '0',
      '--checkpoint-dir', checkpoints, '--checkpoint-every', '1', '--json']);
    expect(run.code).toBe(1);
    const error = ofType(run.events, 'error')[0];
    expect(error.message).toMatch(/training diverged at step 2 \(epoch 1\): the update made parameters infinite or NaN; lower --eta/);
    expect(ofType(run.events, 'checkpoint').map((e) => e.step)).toEqual([1]);
    expect(readdirSync(checkpoints)).toHaveLength(1);
  });

  it('refuses a schedule without test data, and --lambda on a stream of unknown size, with exit code 2', async () => {
    const noTest = await runNabla(['train', '--data', `csv:${train}`, '--sizes', '4,8,3', '--stop-after', '3', '--workers', '1']);
    expect(noTest.code).toBe(2);
    expect(noTest.stderr).toContain('has no test split: pass --test SPEC');
    const noTestBest = await runNabla(['train', '--data', `csv:${train}`, '--sizes', '4,8,3', '--save-best', join(dir, 'x.json'), '--workers', '1']);
    expect(noTestBest.code).toBe(2);
    expect(noTestBest.stderr).toContain('--save-best keeps the model of the best test accuracy');
    const stdin = await runNabla(['train', '--data', 'csv:-', '--sizes', '4,8,3', '--lambda', '1', '--epochs', '1', '--workers', '1'], { stdin: readFileSync(train, 'utf8') });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain('--lambda needs the training-set size n');
  });
});
