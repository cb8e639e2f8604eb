/**
 * The end-of-run HTML report: one self-contained page (inline CSS and SVG, no scripts, no external resources)
 * with the accuracy and cost curves, throughput and step time over the run, and per-worker statistics. Pure.
 */
import type { StatusSnapshot } from '../shared/protocol/status.js';
import { jobOptionsText, formatBytes, formatClock, formatCost, formatMs, formatPercent, formatRate, formatTimeOfDay, plural } from './format.js';
import { slowestWorker } from './panels.js';
import { barChart, escapeXml, lineChart, stackedAreaChart } from './svg-chart.js';

/** One feed interval of the run (MonitorFeed.timeline's element). */
export interface ReportTimelinePoint {
  elapsedMs: number;
  samplesPerSecond: number;
  stepTime: StatusSnapshot['stepTime'];
}

/** The run's outcome as the coordinator's `done` event states it; every field optional so partial runs still render. */
export interface ReportSummary {
  epochs?: number;
  steps?: number;
  seconds?: number;
  samplesPerSecond?: number;
  testAccuracy?: number | null;
  paramHash?: string;
  droppedResults?: number;
  reissuedShards?: number;
  workersSeen?: number;
  referenceChecks?: number;
  referenceFailures?: number;
  worstReferenceRelError?: number | null;
  referenceBackend?: string | null;
}

export interface ReportInput {
  timeline: readonly ReportTimelinePoint[];
  snapshot: StatusSnapshot;
  title: string;
  summary?: ReportSummary;
}

const COLORS = {
  accuracy: '#2a9d5c', cost: '#d1495b', intervalCost: '#edae49', throughput: '#3c6e9f',
  compute: '#3c6e9f', transfer: '#edae49', reduce: '#2a9d5c', idle: '#b8b8b8', slowest: '#d1495b', worker: '#3c6e9f',
};

const HALF = 540, FULL = 1100, CHART_H = 280;

/** The timeline a monitor can rebuild from the snapshots it received (one point per training snapshot). */
export function timelineFromSnapshots(snapshots: readonly StatusSnapshot[]): ReportTimelinePoint[] {
  return snapshots.filter((s) => s.progress.state === 'training')
    .map((s) => ({ elapsedMs: s.progress.elapsedMs, samplesPerSecond: s.throughput.samplesPerSecond, stepTime: s.stepTime }));
}

/** The whole report page as one HTML string. */
export function renderReport(input: ReportInput): string {
  const { snapshot, timeline, title } = input;
  const body = [
    header(input),
    kpis(input),
    '<section class="grid">',
    card('Test accuracy per epoch', accuracyChart(snapshot), 'Share of the test set classified correctly after each epoch.'),
    card('Training cost per epoch', costChart(snapshot), 'Mean quadratic cost over the epoch\'s training samples.'),
    '</section>',
    card('Throughput over the run', throughputChart(timeline), 'Training samples per second, per monitor interval.', true),
    card('Where a step\'s time went', stepTimeChart(timeline), 'Per step, averaged per interval: the slowest shard\'s compute and transfer, the coordinator\'s reduce and update, and the mean time workers sat idle waiting for it.', true),
    card('Cost, recent intervals', intervalCostChart(snapshot), 'Mean cost of the steps in each monitor interval (the feed keeps the most recent ones).', true),
    workersSection(snapshot),
    eventsSection(snapshot),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function header({ snapshot, title }: ReportInput): string {
  const job = snapshot.job;
  const description = job
    ? `[${job.sizes.join(', ')}] · mini-batch ${job.batch} · η ${job.eta}${jobOptionsText(job)} · ${job.epochs} epochs · ${job.data} · ${job.trainSamples} train / ${job.testSamples} test samples · kernel ${job.kernel} · seed ${job.seed}`
    : 'no job started';
  const when = new Date(snapshot.timeMs);
  return `<header><h1>${escapeXml(title)}</h1><p class="sub">${escapeXml(description)}</p>` +
    `<p class="meta">state: ${escapeXml(snapshot.progress.state)} · snapshot ${escapeXml(when.toISOString().slice(0, 10))} ${escapeXml(formatTimeOfDay(snapshot.timeMs))}` +
    `${snapshot.paramHash ? ` · parameters ${escapeXml(snapshot.paramHash)}` : ''}</p></header>`;
}

function kpis({ snapshot, summary, timeline }: ReportInput): string {
  const lastEpoch = snapshot.epochs.at(-1);
  const accuracy = summary?.testAccuracy ?? snapshot.epochs.filter((e) => e.testAccuracy !== null).at(-1)?.testAccuracy ?? null;
  const seconds = summary?.seconds ?? snapshot.progress.elapsedMs / 1000;
  const meanRate = summary?.samplesPerSecond ?? mean(timeline.map((p) => p.samplesPerSecond).filter((v) => v > 0));
  const reference = snapshot.reference;
  const checks = summary?.referenceChecks ?? reference?.checks ?? 0;
  const failures = summary?.referenceFailures ?? reference?.failures ?? 0;
  const referenceText = checks === 0 ? 'off' : failures === 0 ? 'pass' : `${failures} failed`;
  const referenceNote = checks === 0 ? 'no TF.js check ran'
    : `${checks} checks (${summary?.referenceBackend ?? reference?.backend ?? '?'}), worst rel. error ${(summary?.worstReferenceRelError ?? reference?.lastMaxRelError ?? 0).toExponential(1)}`;
  const cards = [
    kpi('Test accuracy', formatPercent(accuracy), lastEpoch ? `after epoch ${lastEpoch.epoch}` : 'no epoch finished', accuracy === null ? '' : 'good'),
    kpi('Training cost', lastEpoch ? formatCost(lastEpoch.trainCost) : 'n/a', 'mean over the last epoch'),
    kpi('Throughput', `${formatRate(meanRate)}/s`, 'training samples per second'),
    kpi('Wall time', formatClock(seconds * 1000), `${summary?.steps ?? snapshot.progress.step} steps`),
    kpi('Workers', String(summary?.workersSeen ?? snapshot.workers.length), summary?.workersSeen !== undefined ? 'joined during the run' : 'connected at the end'),
    kpi('Reference check', referenceText, referenceNote, checks === 0 ? '' : failures === 0 ? 'good' : 'bad'),
  ];
  const faults = (summary?.reissuedShards ?? 0) + (summary?.droppedResults ?? 0);
  if (faults > 0) cards.push(kpi('Recovered faults', String(faults), `${plural(summary?.reissuedShards ?? 0, 'shard')} re-issued, ${plural(summary?.droppedResults ?? 0, 'result')} dropped`, 'bad'));
  return `<section class="kpis">${cards.join('')}</section>`;
}

function kpi(label: string, value: string, note: string, tone = ''): string {
  return `<div class="kpi ${tone}"><div class="kpi-label">${escapeXml(label)}</div><div class="kpi-value">${escapeXml(value)}</div>` +
    `<div class="kpi-note">${escapeXml(note)}</div></div>`;
}

function card(title: string, chart: string, caption: string, isWide = false): string {
  return `<figure class="card${isWide ? ' wide' : ''}"><figcaption><h2>${escapeXml(title)}</h2><p>${escapeXml(caption)}</p></figcaption>${chart}</figure>`;
}

function accuracyChart(snapshot: StatusSnapshot): string {
  const points = snapshot.epochs.flatMap((e) => (e.testAccuracy === null ? [] : [[e.epoch, e.testAccuracy] as const]));
  return lineChart({ width: HALF, height: CHART_H, xLabel: 'epoch', formatX: integerLabel, isIntegerX: true, formatY: (v) => formatPercent(v, 0) },
    [{ label: 'test accuracy', color: COLORS.accuracy, points, hasDots: true }]);
}

function costChart(snapshot: StatusSnapshot): string {
  const points = snapshot.epochs.map((e) => [e.epoch, e.trainCost] as const);
  return lineChart({ width: HALF, height: CHART_H, xLabel: 'epoch', formatX: integerLabel, isIntegerX: true, formatY: formatCost, yInclude: [0] },
    [{ label: 'training cost', color: COLORS.cost, points, hasDots: true }]);
}

function throughputChart(timeline: readonly ReportTimelinePoint[]): string {
  const points = timeline.map((p) => [p.elapsedMs / 1000, p.samplesPerSecond] as const);
  return lineChart({ width: FULL, height: CHART_H, xLabel: 'time since the coordinator started', formatX: secondsLabel, formatY: (v) => axisLabel(formatRate(v)), yInclude: [0] },
    [{ label: 'samples/s', color: COLORS.throughput, points, isFilled: true }]);
}

function stepTimeChart(timeline: readonly ReportTimelinePoint[]): string {
  const measured = timeline.filter((p) => p.stepTime.computeMs + p.stepTime.transferMs + p.stepTime.reduceMs + p.stepTime.idleMs > 0);
  return stackedAreaChart({ width: FULL, height: CHART_H, xLabel: 'time since the coordinator started', formatX: secondsLabel, formatY: (v) => axisLabel(formatMs(v)) },
    measured.map((p) => p.elapsedMs / 1000), [
      { label: 'compute', color: COLORS.compute, values: measured.map((p) => p.stepTime.computeMs) },
      { label: 'transfer', color: COLORS.transfer, values: measured.map((p) => p.stepTime.transferMs) },
      { label: 'reduce + update', color: COLORS.reduce, values: measured.map((p) => p.stepTime.reduceMs) },
      { label: 'idle (waiting for the slowest)', color: COLORS.idle, values: measured.map((p) => p.stepTime.idleMs) },
    ]);
}

function intervalCostChart(snapshot: StatusSnapshot): string {
  const points = snapshot.costHistory.map((cost, i) => [i - snapshot.costHistory.length + 1, cost] as const);
  return lineChart({ width: FULL, height: 220, xLabel: 'monitor interval (0 = the last)', formatX: integerLabel, isIntegerX: true, formatY: formatCost },
    [{ label: 'cost', color: COLORS.intervalCost, points }]);
}

function workersSection(snapshot: StatusSnapshot): string {
  const workers = snapshot.workers;
  if (workers.length === 0) return '<section class="card wide"><h2>Workers</h2><p class="empty">No workers were connected when the report was written.</p></section>';
  const slowest = slowestWorker(workers);
  const totalSamples = workers.reduce((sum, w) => sum + w.samples, 0) || 1;
  const speed = barChart(workers.map((w) => ({
    label: `${w.id} ${w.name}`.slice(0, 22), value: w.samplesPerSecond, color: w === slowest ? COLORS.slowest : COLORS.worker,
    note: `${formatRate(w.samplesPerSecond)} samples/s${w === slowest ? ' (slowest)' : ''}`,
  })), HALF);
  const share = barChart(workers.map((w) => ({
    label: `${w.id} ${w.name}`.slice(0, 22), value: w.samples, color: COLORS.reduce,
    note: `${formatRate(w.samples)} samples (${((w.samples / totalSamples) * 100).toFixed(0)}%)`,
  })), HALF);
  const rows = workers.map((w) => `<tr${w === slowest ? ' class="slowest"' : ''}><td>${escapeXml(w.id)}</td><td>${escapeXml(w.name)}</td><td>${escapeXml(w.address)}</td>` +
    `<td>${escapeXml(w.kernel)}</td><td>${w.sharedMemory === undefined ? '' : w.sharedMemory ? 'shared memory' : 'socket'}</td>` +
    `<td>${w.ownUpdates === undefined ? '' : w.ownUpdates ? 'its own update' : 'the coordinator'}</td><td class="n">${w.shards}</td><td class="n">${w.samples}</td><td class="n">${formatRate(w.samplesPerSecond)}</td>` +
    `<td class="n">${formatMs(w.computeMs)}</td><td class="n">${formatMs(w.transferMs)}</td><td class="n">${formatMs(w.waitMs)}</td>` +
    `<td class="n">${formatBytes(w.bytesIn)}</td><td class="n">${formatBytes(w.bytesOut)}</td></tr>`).join('');
  return `<section class="card wide"><h2>Workers</h2><p>Connected at the end of the run${slowest ? `; the slowest, ${escapeXml(slowest.id)}, is marked` : ''}. Compute, transfer and wait are of each worker's last shard.</p>` +
    `<div class="pair"><div><h3>Compute speed</h3>${speed}</div><div><h3>Samples computed</h3>${share}</div></div>` +
    '<table><thead><tr><th>id</th><th>name</th><th>address</th><th>kernel</th><th>arrays via</th><th>parameters from</th><th>shards</th><th>samples</th><th>samples/s</th>' +
    `<th>compute</th><th>transfer</th><th>wait</th><th>bytes in</th><th>bytes out</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function eventsSection(snapshot: StatusSnapshot): string {
  if (snapshot.events.length === 0) return '';
  const items = snapshot.events.map((e) => `<li><time>${escapeXml(formatTimeOfDay(e.timeMs))}</time> ${escapeXml(e.text)}</li>`).join('');
  return `<section class="card wide"><h2>Recent events</h2><ol class="events">${items}</ol></section>`;
}

const mean = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const integerLabel = (v: number): string => String(Math.round(v));
const secondsLabel = (v: number, step: number): string => (step < 1 ? `${v.toFixed(1)} s` : step < 10 && v < 60 ? `${Math.round(v)} s` : formatClock(v * 1000));
/** "4.00k" → "4k", "2.50ms" → "2.5ms": axis ticks are round numbers. */
const axisLabel = (text: string): string => text.replace(/(\.\d*?)0+(?=[a-zA-Z%]*$)/, '$1').replace(/\.(?=[a-zA-Z%]*$)/, '');

const CSS = `
:root { color-scheme: light; --ink: #1f2933; --muted: #66737f; --line: #e3e7eb; --bg: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 28px 20px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
.sub { margin: 0; color: var(--ink); }
.meta { margin: 4px 0 20px; color: var(--muted); font-size: 13px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-bottom: 16px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.kpi-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi-value { font-size: 26px; font-weight: 650; margin: 2px 0; }
.kpi-note { color: var(--muted); font-size: 12px; }
.kpi.good .kpi-value { color: #1f7a47; } .kpi.bad .kpi-value { color: #b3263a; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin-bottom: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin: 0; }
.card.wide { margin-bottom: 16px; }
.card h2 { margin: 0; font-size: 16px; } .card h3 { margin: 8px 0 2px; font-size: 13px; color: var(--muted); font-weight: 600; }
.card p { margin: 2px 0 8px; color: var(--muted); font-size: 12.5px; }
.chart { display: block; max-width: 100%; height: auto; }
.chart .gridline { stroke: var(--line); stroke-width: 1; } .chart .axis { stroke: #9aa5b1; stroke-width: 1; }
.chart .tick { fill: var(--muted); font-size: 11px; } .chart .label { fill: var(--muted); font-size: 12px; } .chart .legend { fill: var(--ink); font-size: 12px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
table { width: 100%; border-collapse: collapse; margin-top: 12px; font-size: 12.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { color: var(--muted); font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.slowest td { background: #fdecee; }
.events { margin: 0; padding-left: 0; list-style: none; font-size: 12.5px; columns: 2; column-gap: 24px; }
.events li { padding: 2px 0; break-inside: avoid; } .events time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
.empty { color: var(--muted); }
`;
