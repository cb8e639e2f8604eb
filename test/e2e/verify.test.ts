import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNabla } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-verify-'));
const data = writeBlobsCsv({ rows: 200, features: 6, classes: 4, seed: 4, dir });
const model = join(dir, 'model.json');

describe('nabla verify', () => {
  it('prints a per-layer error table for a saved model and exits 0', async () => {
    const trained = await runNabla(['train', '--data', `csv:${data}`, '--sizes', '6,8,5,4', '--epochs', '1', '--workers', '1', '--save', model]);
    expect(trained.code, trained.stderr).toBe(0);
    const result = await runNabla(['verify', '--model', model, '--data', `csv:${data}`, '--batch', '50', '--workers', '3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/layer\s+shape\s+max abs error\s+max rel error/);
    expect(result.stdout).toMatch(/^\s+1\s+6→8\s/m);
    expect(result.stdout).toMatch(/^\s+3\s+5→4\s/m);
    expect(result.stdout).toMatch(/^\s*all .* ok \(tolerance 2\.00e-3\)/m);

    // The same rows as NDJSON: verify reads every data spec train does.
    const ndjson = join(dir, 'data.ndjson');
    writeFileSync(ndjson, readFileSync(data, 'utf8').trim().split('\n')
      .map((line) => { const [label, ...x] = line.split(',').map(Number); return JSON.stringify({ label, x }); }).join('\n') + '\n');
    const fromNdjson = await runNabla(['verify', '--model', model, '--data', `ndjson:${ndjson}`, '--batch', '50', '--workers', '2']);
    expect(fromNdjson.code, fromNdjson.stderr).toBe(0);
    const table = (text: string) => text.split('\n').filter((line) => /^\s+(\d|all)\s/.test(line));
    expect(table(fromNdjson.stdout)).toEqual(table(result.stdout)); // the same samples: the same errors, digit for digit
  });

  it('exits 2 with a clear error for a corrupted model', async () => {
    const text = readFileSync(model, 'utf8');
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, text.slice(0, text.length / 2));
    const truncated = await runNabla(['verify', '--model', corrupt, '--data', `csv:${data}`]);
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toContain(`${corrupt} is not valid JSON`);
    const json = JSON.parse(text);
    json.weights[1][2] = json.weights[1][2].slice(1);
    writeFileSync(corrupt, JSON.stringify(json));
    const wrongShape = await runNabla(['verify', '--model', corrupt, '--data', `csv:${data}`]);
    expect(wrongShape.code).toBe(2);
    expect(wrongShape.stderr).toContain('weights[1][2] must hold 8 numbers (sizes[1])');
  });
});
