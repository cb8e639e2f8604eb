/** How `nabla eval` shows its result: a few lines and a confusion table for people, one JSON object with --json. */
import type { EvalReport } from './eval.js';
import { shapeOf } from '../shared/network/layout.js';

/** Per-class recall: the fraction of each actual class predicted right; null for a class without samples. */
export function recallOf(report: Pick<EvalReport, 'classes' | 'confusion'>): Array<number | null> {
  const { classes, confusion } = report;
  return Array.from({ length: classes }, (_, actual) => {
    let total = 0;
    for (let predicted = 0; predicted < classes; predicted++) total += confusion[actual * classes + predicted];
    return total === 0 ? null : confusion[actual * classes + actual] / total;
  });
}

/** The confusion matrix as nested arrays: rows are actual classes, columns predicted classes. */
export function confusionRows(report: Pick<EvalReport, 'classes' | 'confusion'>): number[][] {
  const { classes, confusion } = report;
  return Array.from({ length: classes }, (_, actual) => Array.from(confusion.subarray(actual * classes, (actual + 1) * classes)));
}

/** The --json object. */
export function evalJson(report: EvalReport): Record<string, unknown> {
  return {
    model: report.modelPath, sizes: report.sizes, data: report.source, split: report.split, kernel: report.kernel,
    count: report.count, correct: report.correct, accuracy: report.accuracy, cost: report.cost, costName: report.costName,
    confusion: confusionRows(report), recall: recallOf(report), badRows: report.badRows,
  };
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

/** The human report: what was evaluated, accuracy and cost, then the confusion table with per-class recall. */
export function formatEval(report: EvalReport): string[] {
  const lines = [
    `model ${report.modelPath} ${shapeOf(report.sizes)} on ${report.source}, kernel ${report.kernel}`,
    `${report.count} samples: accuracy ${percent(report.accuracy)} (${report.correct} correct), mean ${report.costName} cost ${report.cost.toFixed(6)}`,
  ];
  if (report.badRows > 0) lines.push(`${report.badRows} bad rows skipped`);
  lines.push('', ...formatConfusion(report));
  return lines;
}

/**
 * The confusion table, right-aligned:
 *           predicted
 *   actual     0    1   recall
 *        0    48    2   96.00%
 *        1     5   45   90.00%
 */
export function formatConfusion(report: Pick<EvalReport, 'classes' | 'confusion'>): string[] {
  const { classes, confusion } = report;
  let widest = 0;
  for (let i = 0; i < confusion.length; i++) if (confusion[i] > widest) widest = confusion[i];
  const cell = Math.max(String(widest).length, String(classes - 1).length) + 2;
  const label = 'actual'.length;
  const pad = (text: string | number, width: number): string => String(text).padStart(width);
  const recall = recallOf(report);
  const lines = [
    `${' '.repeat(label)}  predicted`,
    `${'actual'}${Array.from({ length: classes }, (_, j) => pad(j, cell)).join('')}${pad('recall', 9)}`,
  ];
  for (let actual = 0; actual < classes; actual++) {
    let row = pad(actual, label);
    for (let predicted = 0; predicted < classes; predicted++) row += pad(confusion[actual * classes + predicted], cell);
    const r = recall[actual];
    lines.push(row + pad(r === null ? '-' : percent(r), 9));
  }
  return lines;
}
