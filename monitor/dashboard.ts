/**
 * The full-screen dashboard as text: `renderDashboard(snapshot, {columns, rows, connection})` returns exactly
 * `rows` lines, none wider than `columns`. Pure (no terminal, no clock): the terminal view only writes the lines.
 */
import type { StatusSnapshot } from '../shared/protocol/status.js';
import { progressBar, sparkline } from './charts.js';
import { jobOptionsText, formatClock, formatRate, formatTimeOfDay, plural, sanitize, truncate, visibleLength } from './format.js';
import { chartRow, referenceLine, stepTimeLines, workerTable } from './panels.js';
import { colorStyle, plainStyle, type Style } from './style.js';

/** The monitor's link to the coordinator, as shown on the dashboard. */
export interface ConnectionView {
  url: string;
  state: 'connecting' | 'connected' | 'reconnecting' | 'finished';
  /** Why and when: "connection refused; retrying in 2.0 s (attempt 3)", or the coordinator's reason for finishing. */
  detail?: string;
}

export interface DashboardOptions {
  columns: number;
  rows: number;
  connection: ConnectionView;
  /** ANSI colours (off by default: tests and captures read plain text). */
  color?: boolean;
}

/** Below this the dashboard shows only its summary lines. */
const MIN_FULL = { columns: 60, rows: 16 };
const MAX_CHART_HEIGHT = 30;

/** The dashboard for one snapshot (null before the first) at the given terminal size. */
export function renderDashboard(snapshot: StatusSnapshot | null, options: DashboardOptions): string[] {
  const width = Math.max(1, options.columns);
  const rows = Math.max(1, options.rows);
  const style = options.color ? colorStyle : plainStyle;
  const top = [titleLine(snapshot, options.connection, width, style)];
  const footer = footerLine(snapshot, options.connection, width, style);
  if (snapshot === null) {
    const body = [style.dim(`waiting for the first status from ${sanitize(options.connection.url)}…`)];
    return fill([...top, '', ...body], footer, rows, width);
  }
  top.push(jobLine(snapshot, width), progressLine(snapshot, width, style), throughputLine(snapshot, width, style));
  if (width < MIN_FULL.columns || rows < MIN_FULL.rows) {
    const lead = 'samples/s ';
    const summary = [`${lead}${style.accent(sparkline(snapshot.throughput.history, Math.max(0, width - lead.length)))}`, referenceLine(snapshot.reference, width, style)];
    return fill([...top, ...summary.map((line) => truncate(line, width))], footer, rows, width);
  }

  // Rows: 4 at the top, the chart titles, step time (2), reference (1), footer (1); the rest is shared below.
  const stepLines = stepTimeLines(snapshot.stepTime, width, true, style);
  let budget = rows - top.length - 1 - stepLines.length - 1 - 1;
  const minChartHeight = 3;
  const maxWorkerRows = Math.max(1, budget - minChartHeight - 2);
  const workers = workerTable(snapshot.workers, width, maxWorkerRows, style);
  budget -= workers.length;
  // Events take what they need up to 45% of the rest; the charts grow into everything else.
  const eventRows = Math.min(snapshot.events.length, Math.floor(budget * 0.45));
  const chartHeight = Math.max(minChartHeight, Math.min(MAX_CHART_HEIGHT, budget - 1 - Math.max(2, eventRows)));
  budget -= chartHeight;
  const eventLines = budget >= 2 ? recentEvents(snapshot, width, budget - 1, style) : [];
  const body = [
    ...chartRow(snapshot, width, chartHeight, style),
    ...workers,
    ...stepLines,
    referenceLine(snapshot.reference, width, style),
    ...eventLines,
  ];
  return fill([...top, ...body], footer, rows, width);
}

/** Pads with blank lines so the footer sits on the last row; cuts when there are too many lines. */
function fill(lines: string[], footer: string, rows: number, width: number): string[] {
  const body = lines.slice(0, Math.max(0, rows - 1)).map((line) => truncate(line, width));
  while (body.length < rows - 1) body.push('');
  return rows === 1 ? [footer] : [...body, footer];
}

function titleLine(snapshot: StatusSnapshot | null, connection: ConnectionView, width: number, style: Style): string {
  const dot = connection.state === 'connected' ? style.good('●') : connection.state === 'finished' ? style.good('■') : style.warn('○');
  const state = snapshot ? snapshot.progress.state : 'no status yet';
  const left = `${style.bold('nabla monitor')}  ${sanitize(connection.url)}  ${dot} ${connection.state}  · ${state}`;
  const right = snapshot ? formatTimeOfDay(snapshot.timeMs) : '';
  const gap = width - visibleLength(left) - right.length;
  return gap >= 1 ? `${left}${' '.repeat(gap)}${style.dim(right)}` : truncate(left, width);
}

function jobLine(snapshot: StatusSnapshot, width: number): string {
  const job = snapshot.job;
  if (!job) return 'job: not started yet (waiting for the coordinator to load its data)';
  return truncate(`job [${job.sizes.join(',')}] · batch ${job.batch} · η ${job.eta}${jobOptionsText(job)} · ${job.epochs} epochs · ${sanitize(job.data)} ` +
    `(${job.trainSamples} train, ${job.testSamples} test) · kernel ${sanitize(job.kernel)} · seed ${job.seed}`, width);
}

function progressLine(snapshot: StatusSnapshot, width: number, style: Style): string {
  const { progress, job } = snapshot;
  const totalSteps = job?.totalSteps ?? 0;
  const fraction = progress.state === 'done' ? 1 : totalSteps > 0 ? progress.step / totalSteps : 0;
  const left = `epoch ${progress.epoch}/${job?.epochs ?? '?'}  step ${progress.step}/${totalSteps || '?'} `;
  const eta = progress.state === 'done' ? 'finished' : `ETA ${formatClock(progress.etaMs)}`;
  const right = ` ${(fraction * 100).toFixed(1)}%  ${formatClock(progress.elapsedMs)} elapsed  ${eta}`;
  const barWidth = width - left.length - right.length;
  if (barWidth < 8) return truncate(`${left}${right}`, width);
  return `${left}${style.accent(progressBar(fraction, barWidth))}${right}`;
}

function throughputLine(snapshot: StatusSnapshot, width: number, style: Style): string {
  const { samplesPerSecond, stepsPerSecond, history } = snapshot.throughput;
  const nonZero = history.filter((value) => value > 0);
  const mean = nonZero.length > 0 ? nonZero.reduce((a, b) => a + b, 0) / nonZero.length : 0;
  const peak = nonZero.length > 0 ? Math.max(...nonZero) : 0;
  return truncate(`${style.bold('throughput')} ${formatRate(samplesPerSecond)} samples/s · ${formatRate(stepsPerSecond)} steps/s · ` +
    `mean ${formatRate(mean)} · peak ${formatRate(peak)} · ${plural(snapshot.workers.length, 'worker')}`, width);
}

function recentEvents(snapshot: StatusSnapshot, width: number, count: number, style: Style): string[] {
  const events = snapshot.events.slice(-count);
  const title = style.dim(`recent events${events.length === 0 ? ': none yet' : ''}`);
  return [title, ...events.map((event) => truncate(`${style.dim(formatTimeOfDay(event.timeMs))} ${sanitize(event.text)}`, width))];
}

function footerLine(snapshot: StatusSnapshot | null, connection: ConnectionView, width: number, style: Style): string {
  const detail = connection.detail ? `: ${sanitize(connection.detail)}` : '';
  switch (connection.state) {
    case 'finished':
      return truncate(style.good(`training finished — press q${connection.detail && connection.detail !== 'training finished' ? ` (${sanitize(connection.detail)})` : ''}`), width);
    case 'reconnecting':
      return truncate(style.warn(`⟳ reconnecting${detail}${snapshot ? ' · showing the last state received' : ''} · q quits`), width);
    case 'connecting':
      return truncate(style.warn(`connecting to ${sanitize(connection.url)}…${detail} · q quits`), width);
    case 'connected':
      return truncate(style.dim(`q quit${snapshot?.paramHash ? ` · params ${sanitize(snapshot.paramHash)}` : ''}`), width);
  }
}
