/**
 * `nabla eval`, `nabla predict` and `nabla export` on a model trained for real by `nabla train`, each a real process:
 * eval must report the accuracy training reported; predict must agree with the TF.js export run in TensorFlow.js
 * (float32) and with the network2.py export run by a transcription of the book's load() + feedforward in numpy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundledMnist } from '../../shared/data/mnist.js';
import { loadTf } from '../../coordinator/reference/backend.js';
import { fileLoader } from '../../model/tfjs-file-loader.js';
import { CLI, runNabla } from '../support/cluster.js';

const NETWORK2_SCRIPT = fileURLToPath(new URL('../reference/network2/load_and_predict.py', import.meta.url));
// Debian's python3-numpy lives with /usr/bin/python3; a python3 earlier on PATH (pyenv, venv) may lack it.
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import numpy']).status === 0);

const ROWS = 1000;
const dir = mkdtempSync(join(tmpdir(), 'nabla-model-tools-'));
const modelPath = join(dir, 'model.json');
const rowsPath = join(dir, 'rows.csv');

/** The first 1,000 digits of the bundled test split as CSV rows x1,…,x784 (the values the network sees). */
function writeTestRows(): string {
  const { test } = loadBundledMnist();
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) lines.push(Array.from(test.x.subarray(i * 784, (i + 1) * 784), (v) => v / test.xDivisor).join(','));
  const text = `${lines.join('\n')}\n`;
  writeFileSync(rowsPath, text);
  return text;
}

interface Prediction { line: number; class: number; outputs: number[] }

let training: Array<Record<string, unknown>>;
let rowsText: string;
let predictions: Prediction[];

beforeAll(async () => {
  rowsText = writeTestRows();
  const trained = await runNabla(['train', '--sizes', '784,30,10', '--epochs', '1', '--workers', '2', '--check-every', '0', '--save', modelPath, '--json']);
  expect(trained.code, trained.stderr).toBe(0);
  training = trained.events;
  const predicted = await runNabla(['predict', '--model', modelPath, '--outputs'], { stdin: rowsText });
  expect(predicted.code, predicted.stderr).toBe(0);
  predictions = predicted.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Prediction);
  expect(predictions).toHaveLength(ROWS);
});

/** The two largest outputs' gap: below float32 rounding, a float32 copy of the network may rank them the other way. */
function topTwoGap(outputs: ArrayLike<number>): number {
  const sorted = Array.from(outputs).sort((a, b) => b - a);
  return sorted[0] - sorted[1];
}

describe('nabla eval, predict and export on a model trained by nabla train', () => {
  it('eval reports the test accuracy and cost that training reported for its last epoch', async () => {
    const lastEpoch = training.filter((e) => e.event === 'epoch').at(-1) as Record<string, unknown>;
    const done = training.find((e) => e.event === 'done') as Record<string, unknown>;
    const run = await runNabla(['eval', '--model', modelPath, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ count: 2000, split: 'test', costName: 'quadratic' });
    expect(report.accuracy).toBe(lastEpoch.testAccuracy);
    expect(report.accuracy).toBe(done.testAccuracy);
    expect(report.cost).toBeCloseTo(lastEpoch.testCost as number, 12);
    expect(report.confusion.flat().reduce((sum: number, n: number) => sum + n, 0)).toBe(2000);

    const human = await runNabla(['eval', '--model', modelPath]);
    expect(human.stdout).toContain(`2000 samples: accuracy ${((lastEpoch.testAccuracy as number) * 100).toFixed(2)}%`);
    expect(human.stdout).toMatch(/actual +0 +1 +2 +3 +4 +5 +6 +7 +8 +9 +recall/);
  });

  it('predict gives on 1,000 digits the classes that nabla eval counts', async () => {
    const { test } = loadBundledMnist();
    const labelled = rowsText.trimEnd().split('\n').map((row, i) => `${test.labels?.[i]},${row}`).join('\n');
    writeFileSync(join(dir, 'labelled.csv'), `${labelled}\n`);
    const run = await runNabla(['eval', '--model', modelPath, '--data', `csv:${join(dir, 'labelled.csv')}`, '--json']);
    const correct = predictions.filter((p, i) => p.class === test.labels?.[i]).length;
    expect(JSON.parse(run.stdout).correct).toBe(correct);
  });

  it('exports a TF.js LayersModel that TensorFlow.js loads and that predicts what nabla predict does', async () => {
    const out = join(dir, 'tfjs');
    const run = await runNabla(['export', '--model', modelPath, '--format', 'tfjs', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${join(out, 'weights.bin')} (95,440 bytes)`);

    // tfjs-node (file:// URLs in Node) cannot install here: fileLoader reads the two files as its file handler would.
    const { tf } = await loadTf('cpu');
    const model = await tf.loadLayersModel(fileLoader(tf, join(out, 'model.json')));
    const x = tf.tensor2d(rowsText.trimEnd().split('\n').map((row) => row.split(',').map(Number)));
    const outputs = (model.predict(x) as tfjs.Tensor).arraySync() as number[][];
    tf.dispose(x);
    model.dispose();

    let largestDifference = 0;
    const disagreements: number[] = [];
    outputs.forEach((theirs, i) => {
      const ours = predictions[i].outputs;
      theirs.forEach((value, j) => { largestDifference = Math.max(largestDifference, Math.abs(value - ours[j])); });
      const theirClass = theirs.indexOf(Math.max(...theirs));
      if (theirClass !== predictions[i].class) {
        expect(topTwoGap(ours), `row ${i + 1}: tfjs says ${theirClass}, nabla ${predictions[i].class}`).toBeLessThan(1e-5);
        disagreements.push(i);
      }
    });
    expect(largestDifference).toBeLessThan(1e-5);
    expect(disagreements.length).toBeLessThanOrEqual(2);
  });

  it.skipIf(!PYTHON)('exports network2.py JSON that the book\'s load() + feedforward (numpy) read to the same predictions', async () => {
    const out = join(dir, 'book');
    const run = await runNabla(['export', '--model', modelPath, '--format', 'json', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const python = spawnSync(PYTHON as string, [NETWORK2_SCRIPT, join(out, 'network.json'), rowsPath], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(python.status, python.stderr).toBe(0);
    const lines = python.stdout.trimEnd().split('\n').map((line) => line.split(' ').map(Number));
    expect(lines).toHaveLength(ROWS);
    expect(lines.map((line) => line[0])).toEqual(predictions.map((p) => p.class));
    let largestDifference = 0;
    lines.forEach((line, i) => line.slice(1).forEach((value, j) => { largestDifference = Math.max(largestDifference, Math.abs(value - predictions[i].outputs[j])); }));
    expect(largestDifference).toBeLessThan(1e-12); // both float64; only the summation order differs
  });

  it('predict and eval stop quietly with exit 0 when the reader closes the pipe (| head)', () => {
    const many = join(dir, 'many.csv');
    writeFileSync(many, rowsText.repeat(5));
    const errors = join(dir, 'head-stderr.txt');
    const shell = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" predict --model "${modelPath}" --outputs < "${many}" 2> "${errors}" | head -n 2; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    const lines = shell.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]).class).toBe(predictions[0].class);
    expect(lines[2]).toBe('0');
    expect(readFileSync(errors, 'utf8')).toBe('');

    const evalHead = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" eval --model "${modelPath}" 2> "${errors}" | head -n 1; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(evalHead.stdout.trimEnd().split('\n')[1]).toBe('0');
    expect(readFileSync(errors, 'utf8')).toBe('');
  });
});

describe('nabla eval, predict and export usage errors (exit 2, a message that says what is wrong)', () => {
  it('names a missing model file', async () => {
    for (const args of [['eval'], ['predict'], ['export', '--format', 'json', '--out', join(dir, 'never')]]) {
      const run = await runNabla([...args, '--model', join(dir, 'absent.json')]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`nabla: cannot read model file ${join(dir, 'absent.json')}: ENOENT\n`);
    }
  });

  it('names the line of a predict row of the wrong width, after predicting the rows before it', async () => {
    const [first, second] = rowsText.split('\n');
    const run = await runNabla(['predict', '--model', modelPath], { stdin: `${first}\n${second.split(',').slice(1).join(',')}\n` });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('nabla: CSV <stdin>:2: expected 784 inputs for the model, got 783 fields\n');
    expect(run.stdout).toBe(`${predictions[0].class}\n`);
  });

  it('refuses an unknown export format, listing the ones there are', async () => {
    const run = await runNabla(['export', '--model', modelPath, '--format', 'onnx', '--out', join(dir, 'x')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Given: "onnx", Choices: "tfjs", "json"');
  });

  it('refuses an --out that is a file, and eval data that does not fit the model', async () => {
    const asFile = await runNabla(['export', '--model', modelPath, '--format', 'tfjs', '--out', rowsPath]);
    expect(asFile.code).toBe(2);
    expect(asFile.stderr).toBe(`nabla: --out ${rowsPath} is a file; give a directory to write the model files into\n`);
    writeFileSync(join(dir, 'narrow.csv'), '1,0.5,0.5\n');
    const narrow = await runNabla(['eval', '--model', modelPath, '--data', `csv:${join(dir, 'narrow.csv')}`]);
    expect(narrow.code).toBe(2);
    expect(narrow.stderr).toContain('has 2 inputs per sample, but the model');
  });
});
