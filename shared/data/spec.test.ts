import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { loadBundledMnist } from './mnist.js';
import { loadDataset, parseDataSpec } from './spec.js';
import { thrownBy } from '../../test/support/thrown.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nabla-spec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseDataSpec', () => {
  it('parses mnist, idx:DIR, csv:FILE and csv:-', () => {
    expect(parseDataSpec('mnist')).toEqual({ kind: 'mnist' });
    expect(parseDataSpec('idx:/data/fashion')).toEqual({ kind: 'idx', dir: '/data/fashion' });
    expect(parseDataSpec('csv:my data.csv')).toEqual({ kind: 'csv', path: 'my data.csv' });
    expect(parseDataSpec('csv:-')).toEqual({ kind: 'csv', path: '-' });
  });

  it.each(['', 'MNIST', 'idx:', 'csv:', 'data.csv', 'tsv:x'])('rejects %j with the accepted forms', (text) => {
    const error = thrownBy(() => parseDataSpec(text));
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `unknown data spec "${text}"; use one of: mnist (the bundled digits), idx:DIR (MNIST-style IDX files in DIR), ` +
        'csv:FILE (rows label,x1,…,xn), csv:- (CSV on stdin)',
    );
  });
});

describe('loadDataset', () => {
  it('gives the bundled train and test splits for mnist', async () => {
    const { train, test, description } = await loadDataset('mnist');
    expect(train).toBe(loadBundledMnist().train);
    expect(test).toBe(loadBundledMnist().test);
    expect(description).toBe('bundled MNIST digits: 8000 samples × 784 inputs train, 2000 samples × 784 inputs test');
  });

  it('gives a CSV file as training data without a test set', async () => {
    const path = join(dir, 'd.csv');
    await writeFile(path, '0,1,2\n2,3,4\n');
    const { train, test, description } = await loadDataset(`csv:${path}`);
    expect(train.count).toBe(2);
    expect(test).toBeNull();
    expect(description).toBe(`CSV ${path}: 2 samples × 2 inputs, 3 classes`);
  });

  it('reads csv:- from the given stdin', async () => {
    const { train, description } = await loadDataset('csv:-', { stdin: Readable.from(['5,0.5\n']) });
    expect(train.labels).toEqual(Uint16Array.of(5));
    expect(description).toBe('CSV <stdin>: 1 samples × 1 inputs, 6 classes');
  });

  it('passes on the loader errors as DataErrors', async () => {
    await expect(loadDataset(`idx:${join(dir, 'none')}`)).rejects.toBeInstanceOf(DataError);
    await expect(loadDataset(`csv:${join(dir, 'none.csv')}`)).rejects.toThrow(/^CSV file not found: /);
  });
});

