import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { evaluate } from '../shared/network/evaluate.js';
import { sigmoid } from '../shared/network/exp.js';
import { createLayout } from '../shared/network/layout.js';
import { writeModelFile } from '../shared/network/model-file.js';
import { UsageError } from '../shared/usage-error.js';
import { randomProblem } from '../test/support/random-problem.js';
import { chooseSplit, EVAL_BLOCK_ROWS, runEval } from './eval.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-eval-'));

/**
 * A hand-made [2,2] network whose output j is σ(10·(x_j − x_other)): it predicts the index of the larger input.
 * With x = (1, 0) the outputs are σ(10), σ(−10); with x = (0, 1) the reverse.
 */
function writeLargerInputModel(extra: Record<string, unknown> = {}): string {
  const layout = createLayout([2, 2]);
  const path = join(dir, `larger-${Object.keys(extra).join('-') || 'plain'}.json`);
  writeModelFile(path, layout, { weights: Float64Array.of(10, -10, -10, 10), biases: Float64Array.of(0, 0) }, extra);
  return path;
}

function writeCsv(name: string, rows: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

const defaults = { split: undefined, cost: undefined, kernel: 'js' as const, skipBadRows: false };

describe('nabla eval', () => {
  it('counts a hand-made model\'s confusion matrix, accuracy and quadratic cost', async () => {
    // Labels vs the larger input: three right 0s, one 0 called 1, one right 1, two 1s called 0.
    const csv = writeCsv('hand.csv', ['0,1,0', '0,1,0', '0,1,0', '0,0,1', '1,0,1', '1,1,0', '1,1,0']);
    const report = await runEval({ ...defaults, modelPath: writeLargerInputModel(), dataSpec: `csv:${csv}` });
    expect(report.split).toBe('train');
    expect(report.count).toBe(7);
    expect(report.correct).toBe(4);
    expect(report.accuracy).toBeCloseTo(4 / 7, 15);
    expect(Array.from(report.confusion)).toEqual([3, 1, 2, 1]); // [actual 0: →0, →1; actual 1: →0, →1]
    // Right answers cost ½[(σ(10) − 1)² + σ(−10)²] = σ(−10)², wrong ones ½[σ(10)² + (σ(−10) − 1)²] = σ(10)².
    const right = sigmoid(-10) ** 2, wrong = sigmoid(10) ** 2;
    expect(report.cost).toBeCloseTo((4 * right + 3 * wrong) / 7, 12);
    expect(report.costName).toBe('quadratic');
  });

  it('reports the cost the model file names, or the one asked for', async () => {
    const csv = writeCsv('one.csv', ['0,1,0']);
    const crossEntropy = -Math.log(sigmoid(10)) - Math.log(1 - sigmoid(-10));
    const named = await runEval({ ...defaults, modelPath: writeLargerInputModel({ cost: 'CrossEntropyCost' }), dataSpec: `csv:${csv}` });
    expect(named.costName).toBe('cross-entropy');
    expect(named.cost).toBeCloseTo(crossEntropy, 12);
    const asked = await runEval({ ...defaults, cost: 'quadratic', modelPath: writeLargerInputModel({ cost: 'CrossEntropyCost' }), dataSpec: `csv:${csv}` });
    expect(asked.costName).toBe('quadratic');
  });

  it('gives the counts and cost of one evaluate() over the whole set when the data spans several blocks', async () => {
    const count = EVAL_BLOCK_ROWS + 700;
    const { layout, params, samples } = randomProblem(7, [5, 4, 3], count);
    const modelPath = join(dir, 'random.json');
    writeModelFile(modelPath, layout, params);
    const rows = Array.from({ length: count }, (_, i) => [samples.labels?.[i], ...samples.x.subarray(i * 5, (i + 1) * 5)].join(','));
    const report = await runEval({ ...defaults, modelPath, dataSpec: `csv:${writeCsv('random.csv', rows)}` });
    const whole = evaluate(jsGemm, layout, params, samples, 'quadratic');
    expect(report.count).toBe(count);
    expect(report.correct).toBe(whole.correct);
    expect(Array.from(report.confusion)).toEqual(Array.from(whole.confusion));
    expect(report.cost).toBe(whole.cost); // one running sum over the samples in order, however the source is cut
  });

  it('evaluates the bundled digits\' test split by default and the train split when asked', async () => {
    const layout = createLayout([784, 10]);
    const modelPath = join(dir, 'zeros-784.json');
    writeModelFile(modelPath, layout, { weights: new Float64Array(layout.weightCount), biases: new Float64Array(10) });
    const test = await runEval({ ...defaults, modelPath, dataSpec: 'mnist' });
    expect(test).toMatchObject({ split: 'test', count: 2000, source: 'bundled MNIST test' });
    const train = await runEval({ ...defaults, modelPath, dataSpec: 'mnist', split: 'train' });
    expect(train).toMatchObject({ split: 'train', count: 8000 });
  });

  it('refuses data whose rows do not fit the model, naming both sizes', async () => {
    const wide = writeCsv('wide.csv', ['0,1,0,5']);
    await expect(runEval({ ...defaults, modelPath: writeLargerInputModel(), dataSpec: `csv:${wide}` }))
      .rejects.toThrow(new UsageError(`CSV ${wide} has 3 inputs per sample, but the model ${join(dir, 'larger-plain.json')} [2,2] takes 2`));
    await expect(runEval({ ...defaults, modelPath: writeLargerInputModel(), dataSpec: `csv:${wide}` })).rejects.toBeInstanceOf(UsageError);
    const label = writeCsv('label.csv', ['0,1,0', '7,0,1']);
    await expect(runEval({ ...defaults, modelPath: writeLargerInputModel(), dataSpec: `csv:${label}` }))
      .rejects.toThrow(/sample 2 has label 7, but the model has 2 outputs \(classes 0..1\)/);
  });

  it('turns a missing model file into a usage error', async () => {
    await expect(runEval({ ...defaults, modelPath: join(dir, 'absent.json'), dataSpec: 'mnist' })).rejects.toThrow(UsageError);
  });
});

describe('chooseSplit', () => {
  it('takes the test split when there is one, else the only set', () => {
    expect(chooseSplit('mnist', undefined, true)).toBe('test');
    expect(chooseSplit('csv:a.csv', undefined, false)).toBe('train');
    expect(chooseSplit('mnist', 'train', true)).toBe('train');
  });

  it('refuses a test split that is not there, saying what to do', () => {
    expect(() => chooseSplit('csv:a.csv', 'test', false)).toThrow('--data csv:a.csv is a single set, it has no test split; leave out --split to evaluate all of it');
    expect(() => chooseSplit('idx:/d', 'test', false)).toThrow('use --split train');
  });
});
