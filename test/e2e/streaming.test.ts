import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNabla } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-stream-'));
const csv = writeBlobsCsv({ rows: 500, features: 4, classes: 3, seed: 21, dir });
const job = ['--sizes', '4,6,3', '--batch', '16', '--eta', '4', '--workers', '2', '--json', '--check-every', '0'];
const finalHash = (events: Array<Record<string, unknown>>) => events.find((e) => e.event === 'done')?.paramHash;

describe('streaming data', () => {
  it('a shuffle buffer that holds the whole set gives the in-memory shuffle, bit for bit', async () => {
    const [memory, streamed] = await Promise.all([
      runNabla(['train', '--data', `csv:${csv}`, ...job, '--epochs', '2']),
      runNabla(['train', '--data', `csv:${csv}`, ...job, '--epochs', '2', '--shuffle-buffer', '1000']),
    ]);
    expect(memory.code, memory.stderr).toBe(0);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.events.find((e) => e.event === 'start')?.data).toContain('streamed through a shuffle buffer of 1000 samples');
    expect(finalHash(streamed.events)).toBe(finalHash(memory.events));
  });

  it('trains from stdin: one pass streamed, more epochs with --cache, and a clear error without it', async () => {
    const text = readFileSync(csv, 'utf8');
    const fromFile = await runNabla(['train', '--data', `csv:${csv}`, ...job, '--epochs', '2']);
    const cached = await runNabla(['train', '--data', 'csv:-', ...job, '--epochs', '2', '--cache'], { stdin: text });
    expect(cached.code, cached.stderr).toBe(0);
    expect(finalHash(cached.events)).toBe(finalHash(fromFile.events));

    const onePass = await runNabla(['train', '--data', 'csv:-', ...job, '--epochs', '1', '--shuffle-buffer', '64'], { stdin: text });
    expect(onePass.code, onePass.stderr).toBe(0);
    const epoch = onePass.events.find((e) => e.event === 'epoch');
    expect(epoch?.steps).toBe(Math.ceil(500 / 16));

    const refused = await runNabla(['train', '--data', 'csv:-', ...job, '--epochs', '2'], { stdin: text });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('can be read only once but --epochs is 2: pass --cache');
  });

  it('prefetching samples ahead does not change a bit', async () => {
    const runs = await Promise.all([0, 1, 4].map((prefetch) =>
      runNabla(['train', '--data', `csv:${csv}`, ...job, '--epochs', '2', '--prefetch', String(prefetch)])));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(new Set(runs.map((run) => finalHash(run.events))).size).toBe(1);
  });

  it('names a label the network cannot output by its place in the file, however the stream is shuffled', async () => {
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    rows[299] = rows[299].replace(/^\d+/, '7'); // the 300th sample: label 7 for a 3-neuron output layer
    const wrong = join(dir, 'label7.csv');
    appendFileSync(wrong, rows.join('\n') + '\n');
    const run = await runNabla(['train', '--data', `csv:${wrong}`, ...job, '--epochs', '1', '--shuffle-buffer', '64']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${wrong}: sample 300 has label 7, but the output layer has only 3 neurons (labels 0..2)`);
  });

  it('names the file and line of a bad row, or skips and counts bad rows with --skip-bad-rows', async () => {
    const bad = join(dir, 'bad.csv');
    appendFileSync(bad, readFileSync(csv, 'utf8') + '1,0.5,oops,0.1,0.2\n2,0.1,0.2\n');
    const stopped = await runNabla(['train', '--data', `csv:${bad}`, ...job, '--epochs', '1']);
    expect(stopped.code).toBe(2);
    expect(stopped.stderr).toMatch(new RegExp(`${bad}:501: .*oops`));
    const skipped = await runNabla(['train', '--data', `csv:${bad}`, ...job, '--epochs', '1', '--skip-bad-rows']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.events.find((e) => e.event === 'done')?.badRows).toBe(2);
  });
});
