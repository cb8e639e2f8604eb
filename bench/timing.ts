/** Small timing helpers for the bench: run a function for a time budget, medians, formatting. */

export interface Timed {
  /** Units of work done (samples, flops…), as returned by the measured function. */
  units: number;
  ms: number;
}

/** Calls `fn` (which returns the units of work it did) until `budgetMs` has passed; at least once. */
export function runFor(budgetMs: number, fn: () => number): Timed {
  let units = 0;
  const start = performance.now();
  let now = start;
  do {
    units += fn();
    now = performance.now();
  } while (now - start < budgetMs);
  return { units, ms: now - start };
}

export const perSecond = (t: Timed): number => (t.units * 1000) / t.ms;

export { median } from '../shared/median.js';

/** 12345.6 → "12,346"; 12.345 → "12.3"; NaN → "—". */
export function fmtRate(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(x >= 10 ? 1 : 2);
}

export function fmtRatio(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

/** A plain text table: the first row is the header; columns after the first are right-aligned. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]): string =>
    indent + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const rule = indent + widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}
