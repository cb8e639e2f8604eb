import { describe, expect, it } from 'vitest';
import type { EvalReport } from './eval.js';
import { evalJson, formatConfusion, formatEval, recallOf } from './eval-report.js';

const report: EvalReport = {
  modelPath: 'm.json', sizes: [4, 3], source: 'CSV rows.csv', split: 'train', kernel: 'js', costName: 'quadratic',
  count: 100, correct: 93, accuracy: 0.93, cost: 0.0412, classes: 3, badRows: 0,
  // actual 0: 48 right, 2 called 1; actual 1: 5 called 0, 45 right; no samples of class 2.
  confusion: Uint32Array.of(48, 2, 0, 5, 45, 0, 0, 0, 0),
};

describe('the eval report', () => {
  it('gives per-class recall, null for a class without samples', () => {
    expect(recallOf(report)).toEqual([0.96, 0.9, null]);
  });

  it('draws the confusion matrix with actual classes as rows and predicted classes as columns', () => {
    expect(formatConfusion(report)).toEqual([
      '        predicted',
      'actual   0   1   2   recall',
      '     0  48   2   0   96.00%',
      '     1   5  45   0   90.00%',
      '     2   0   0   0        -',
    ]);
  });

  it('says what was evaluated, with the accuracy and the named cost', () => {
    const lines = formatEval(report);
    expect(lines[0]).toBe('model m.json [4,3] on CSV rows.csv, kernel js');
    expect(lines[1]).toBe('100 samples: accuracy 93.00% (93 correct), mean quadratic cost 0.041200');
  });

  it('prints one JSON object with the confusion matrix as nested arrays', () => {
    const json = JSON.parse(JSON.stringify(evalJson(report)));
    expect(json).toMatchObject({ accuracy: 0.93, cost: 0.0412, costName: 'quadratic', count: 100, split: 'train' });
    expect(json.confusion).toEqual([[48, 2, 0], [5, 45, 0], [0, 0, 0]]);
  });
});
