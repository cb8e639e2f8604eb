/**
 * The dashboard's parts, each drawn into a given width: the chart panels, the worker table, the step-time bar,
 * the reference check. Pure: a snapshot in, lines out (every line at most `width` visible columns).
 */
import type { StatusSnapshot, WorkerStatus } from '../shared/protocol/status.js';
import { brailleChart, chartRange, stackedBar } from './charts.js';
import {
  formatAge, formatBytes, formatCost, formatMs, formatPercent, formatRate, padLeft, padRight, sanitize, truncate,
} from './format.js';
import type { Style } from './style.js';

const AXIS_WIDTH = 6;

/** One titled chart: a title row, then `height` rows with the maximum labelled at the top and the minimum at the bottom. */
export function chartPanel(
  title: string, values: readonly number[], format: (value: number) => string, width: number, height: number, style: Style,
  options: { floor?: number; placeholder?: string } = {},
): string[] {
  const plotWidth = Math.max(1, width - AXIS_WIDTH - 1);
  const lines = [padRight(style.bold(title), width)];
  if (values.length === 0) {
    for (let row = 0; row < height; row++) {
      const text = row === Math.floor((height - 1) / 2) ? (options.placeholder ?? 'no data yet') : '';
      lines.push(padRight(`${' '.repeat(AXIS_WIDTH)}${style.dim('│')} ${style.dim(text)}`, width));
    }
    return lines;
  }
  const range = chartRange(values, options.floor);
  const plot = brailleChart(values, plotWidth, height, range);
  // A flat series (one epoch so far) is drawn mid-height: label that line with its value, not the padded range.
  const isFlat = values.every((value) => value === values[0]) && options.floor === undefined;
  const flatRow = Math.floor(Math.round((height * 4 - 1) / 2) / 4);
  for (let row = 0; row < height; row++) {
    const label = isFlat ? (row === flatRow ? format(values[0]) : '') : row === 0 ? format(range.max) : row === height - 1 ? format(range.min) : '';
    lines.push(`${style.dim(padLeft(label, AXIS_WIDTH))}${style.dim(label ? '┤' : '│')}${style.accent(plot[row])}`);
  }
  return lines;
}

/** The three charts side by side: training cost, test accuracy per epoch, samples/s. */
export function chartRow(snapshot: StatusSnapshot, width: number, height: number, style: Style): string[] {
  const gap = 2;
  const panelWidth = Math.floor((width - 2 * gap) / 3);
  const accuracies = snapshot.epochs.flatMap((epoch) => (epoch.testAccuracy === null ? [] : [epoch.testAccuracy]));
  const lastCost = snapshot.costHistory.at(-1);
  const lastAccuracy = accuracies.at(-1);
  const panels = [
    chartPanel(`cost ${lastCost === undefined ? '' : formatCost(lastCost)}`, snapshot.costHistory, formatCost, panelWidth, height, style,
      { placeholder: 'no steps yet' }),
    chartPanel(`test accuracy ${lastAccuracy === undefined ? '' : formatPercent(lastAccuracy)}`, accuracies, (x) => formatPercent(x, 1), panelWidth, height, style,
      { placeholder: snapshot.job && snapshot.job.testSamples === 0 ? 'no test set' : 'after epoch 1' }),
    chartPanel(`samples/s ${formatRate(snapshot.throughput.samplesPerSecond)}`, snapshot.throughput.history, formatRate, panelWidth, height, style,
      { floor: 0, placeholder: 'no steps yet' }),
  ];
  const spacer = ' '.repeat(gap);
  return panels[0].map((_, row) => panels.map((panel) => padRight(panel[row], panelWidth)).join(spacer));
}

/** The worker to point at: the lowest measured speed, when there are at least two to compare. */
export function slowestWorker(workers: readonly WorkerStatus[]): WorkerStatus | null {
  const measured = workers.filter((worker) => worker.samplesPerSecond > 0);
  if (measured.length < 2) return null;
  return measured.reduce((a, b) => (b.samplesPerSecond < a.samplesPerSecond ? b : a));
}

interface Column { title: string; width: number; alignRight: boolean; cell(worker: WorkerStatus): string }

/**
 * Sized for 80 columns (79 with the marker); wider terminals get long titles, a wider address, names, then how each
 * worker's arrays travel and where its parameters come from.
 */
const COLUMNS: Column[] = [
  { title: 'id', width: 4, alignRight: false, cell: (w) => w.id },
  { title: 'address', width: 15, alignRight: false, cell: (w) => w.address },
  { title: 'state', width: 5, alignRight: false, cell: (w) => w.state },
  { title: 'shard', width: 5, alignRight: true, cell: (w) => String(w.chunks) },
  { title: 'samples/s', width: 9, alignRight: true, cell: (w) => formatRate(w.samplesPerSecond) },
  { title: 'comp', width: 6, alignRight: true, cell: (w) => formatMs(w.computeMs) },
  { title: 'xfer', width: 6, alignRight: true, cell: (w) => formatMs(w.transferMs) },
  { title: 'wait', width: 6, alignRight: true, cell: (w) => formatMs(w.waitMs) },
  { title: 'in/out', width: 9, alignRight: true, cell: (w) => `${formatBytes(w.bytesIn)}/${formatBytes(w.bytesOut)}` },
  { title: 'hb', width: 4, alignRight: true, cell: (w) => formatAge(w.heartbeatAgeMs) },
];
const WIDE_TITLES: Record<string, { title: string; width: number }> = { comp: { title: 'compute', width: 7 }, xfer: { title: 'transfer', width: 8 } };
const NAME_COLUMN: Column = { title: 'name', width: 0, alignRight: false, cell: (w) => w.name };
/** Blank for a coordinator that does not report them (both fields are optional in the feed). */
const PATH_COLUMNS: Column[] = [
  { title: 'via', width: 4, alignRight: false, cell: (w) => (w.sharedMemory === undefined ? '' : w.sharedMemory ? 'shm' : 'sock') },
  { title: 'params', width: 6, alignRight: false, cell: (w) => (w.ownUpdates === undefined ? '' : w.ownUpdates ? 'own' : 'coord') },
];

const tableWidth = (columns: readonly Column[]): number => 1 + columns.reduce((sum, column) => sum + column.width, 0) + columns.length - 1;

/**
 * The columns for this width: long titles first, then a wider address (to 21), then via/params when a name column
 * of at least 12 still fits beside them, then a name column (at least 8).
 */
function columnsFor(width: number): Column[] {
  let columns = [...COLUMNS];
  const wide = columns.map((column) => ({ ...column, ...WIDE_TITLES[column.title] }));
  if (tableWidth(wide) <= width) columns = wide;
  let spare = width - tableWidth(columns);
  const addressExtra = Math.max(0, Math.min(6, spare));
  columns = columns.map((column) => (column.title === 'address' ? { ...column, width: column.width + addressExtra } : column));
  spare -= addressExtra;
  const pathWidth = tableWidth([...columns, ...PATH_COLUMNS]) - tableWidth(columns);
  if (spare >= pathWidth + 1 + 12) { // a separator and a name of 12
    columns.splice(columns.findIndex((column) => column.title === 'state') + 1, 0, ...PATH_COLUMNS);
    spare -= pathWidth;
  }
  const nameWidth = Math.min(28, spare - 1);
  if (nameWidth >= 8) columns.splice(2, 0, { ...NAME_COLUMN, width: nameWidth });
  return columns;
}

/** The worker table: a header, then one row per worker (at most `maxRows`, always including the slowest). */
export function workerTable(workers: readonly WorkerStatus[], width: number, maxRows: number, style: Style): string[] {
  const columns = columnsFor(width);
  const row = (cells: string[]): string => cells.map((cell, i) => (columns[i].alignRight ? padLeft(cell, columns[i].width) : padRight(cell, columns[i].width))).join(' ');
  const header = style.dim(` ${row(columns.map((column) => column.title))}`);
  if (workers.length === 0) return [truncate(header, width), style.dim(' no workers connected')];
  const slowest = slowestWorker(workers);
  let shown = [...workers];
  let hidden = 0;
  if (shown.length > maxRows) {
    const keep = Math.max(1, maxRows - 1);
    shown = shown.slice(0, keep);
    if (slowest && !shown.includes(slowest)) shown[keep - 1] = slowest;
    hidden = workers.length - shown.length;
  }
  const lines = [truncate(header, width)];
  for (const worker of shown) {
    const isSlowest = worker === slowest;
    const text = `${isSlowest ? '▶' : ' '}${row(columns.map((column) => sanitize(column.cell(worker))))}`;
    lines.push(truncate(isSlowest ? style.highlight(text) : text, width));
  }
  if (hidden > 0) lines.push(style.dim(truncate(` … and ${hidden} more worker${hidden === 1 ? '' : 's'}`, width)));
  return lines;
}

const STEP_PARTS = [
  { key: 'computeMs', label: 'compute', char: '█' },
  { key: 'transferMs', label: 'transfer', char: '▓' },
  { key: 'reduceMs', label: 'reduce+update', char: '▒' },
  { key: 'idleMs', label: 'idle', char: '░' },
] as const;

/** Where a step's time goes: a bar, and (when `withLegend`) a legend line with ms and percentages. */
export function stepTimeLines(stepTime: StatusSnapshot['stepTime'], width: number, withLegend: boolean, style: Style): string[] {
  const total = STEP_PARTS.reduce((sum, part) => sum + stepTime[part.key], 0);
  const lead = `step time ${total > 0 ? `${formatMs(total)}/step` : '(no steps)'} `;
  const barWidth = Math.max(10, width - lead.length);
  const bar = stackedBar(STEP_PARTS.map((part) => ({ value: stepTime[part.key], char: part.char })), barWidth);
  const lines = [truncate(`${style.bold(lead)}${style.accent(bar)}`, width)];
  if (!withLegend) return lines;
  const share = (ms: number): string => (total > 0 ? `${Math.round((ms / total) * 100)}%` : '-');
  const long = STEP_PARTS.map((part) => `${part.char} ${part.label} ${formatMs(stepTime[part.key])} ${share(stepTime[part.key])}`).join('  ');
  const short = STEP_PARTS.map((part) => `${part.char} ${part.label} ${share(stepTime[part.key])}`).join('  ');
  lines.push(truncate(`  ${long.length + 2 <= width ? long : short}`, width));
  return lines;
}

/** The TF.js reference check: backend, checks, the last relative error, pass or fail. */
export function referenceLine(reference: StatusSnapshot['reference'], width: number, style: Style): string {
  const lead = style.bold('reference ');
  if (reference === null) return truncate(`${lead}${style.dim('no check reported yet (off, or before the first checked step)')}`, width);
  const verdict = reference.ok && reference.failures === 0 ? style.good('PASS') : style.bad(reference.ok ? `PASS now, ${reference.failures} failed` : 'FAIL');
  const text = `${lead}${sanitize(reference.backend)} · ${reference.checks} checks, ${reference.failures} failed · ` +
    `step ${reference.lastStep}: max rel err ${reference.lastMaxRelError.toExponential(1)} · ${verdict}`;
  return truncate(text, width);
}
