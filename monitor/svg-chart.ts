/**
 * Inline SVG charts for the HTML report: line (optionally filled) charts, stacked areas and horizontal bars,
 * with "nice" axis ticks. Pure: numbers in, markup out; no scripts, no external resources.
 */
import { resample } from './charts.js';

export interface Series {
  label: string;
  color: string;
  /** [x, y] in data units, x increasing. */
  points: ReadonlyArray<readonly [number, number]>;
  isFilled?: boolean;
  hasDots?: boolean;
}

export interface Axes {
  width: number;
  height: number;
  xLabel: string;
  /** A tick label; `step` is the distance between ticks (so a label can show as many decimals as needed). */
  formatX: (value: number, step: number) => string;
  /** Ticks only on whole numbers (epochs, intervals). */
  isIntegerX?: boolean;
  formatY: (value: number) => string;
  /** Force the y range to include these (e.g. 0 for rates, 1 for accuracy). */
  yInclude?: number[];
}

const MARGIN = { top: 14, right: 16, bottom: 42, left: 62 };
/** Extra room above the plot for a legend. */
const LEGEND_HEIGHT = 22;
/** Most points drawn per series; longer runs are averaged down (a path of thousands of points says no more). */
const MAX_POINTS = 600;

/** Escapes text for HTML and SVG content and attributes. */
export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The round distance (1, 2 or 5 × 10^k) between about `count` ticks over [min, max]. */
function tickStep(min: number, max: number, count = 5): number {
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
}

function extent(values: number[], include: number[] = []): [number, number] {
  const all = [...values, ...include].filter(Number.isFinite);
  if (all.length === 0) return [0, 1];
  let min = Math.min(...all), max = Math.max(...all);
  if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
    const pad = Math.abs(max) > 0 ? Math.abs(max) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  return [min, max];
}

/** Scales, grid and axes shared by the chart kinds; `body` draws the data with the given scales. */
function frame(
  axes: Axes, xs: number[], ys: number[], legendItems: Array<{ label: string; color: string }>,
  body: (x: (v: number) => number, y: (v: number) => number, bottomPx: number) => string,
): string {
  const { width, height } = axes;
  const top = MARGIN.top + (legendItems.length > 1 ? LEGEND_HEIGHT : 0);
  const plotW = width - MARGIN.left - MARGIN.right, plotH = height - top - MARGIN.bottom;
  const [x0, x1] = extent(xs);
  const [yMin, yMax] = extent(ys, axes.yInclude);
  const step = tickStep(yMin, yMax);
  // The y axis starts and ends on a tick, so the lowest and highest points are always labelled from below and above.
  const y0 = Math.floor(yMin / step + 1e-9) * step, y1 = Math.ceil(yMax / step - 1e-9) * step;
  const yTicks: number[] = [];
  for (let i = 0; y0 + i * step <= y1 + step * 1e-9; i++) yTicks.push(Math.abs(y0 + i * step) < step * 1e-9 ? 0 : y0 + i * step);
  const x = (v: number): number => MARGIN.left + ((v - x0) / (x1 - x0)) * plotW;
  const y = (v: number): number => top + (1 - (v - y0) / (y1 - y0)) * plotH;
  const grid = yTicks.map((t) => `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="gridline"/>` +
    `<text x="${MARGIN.left - 8}" y="${(y(t) + 4).toFixed(1)}" class="tick" text-anchor="end">${escapeXml(axes.formatY(t))}</text>`).join('');
  const xStep = Math.max(axes.isIntegerX ? 1 : 0, tickStep(x0, x1, Math.max(2, Math.floor(plotW / 90))));
  const xTicks: number[] = [];
  for (let t = Math.ceil(x0 / xStep - 1e-9) * xStep; t <= x1 + xStep * 1e-9; t += xStep) xTicks.push(t);
  const xAxis = xTicks.map((t) => `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top + plotH}" y2="${top + plotH + 5}" class="axis"/>` +
    `<text x="${x(t).toFixed(1)}" y="${top + plotH + 18}" class="tick" text-anchor="middle">${escapeXml(axes.formatX(t, xStep))}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">` +
    grid +
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${top + plotH}" y2="${top + plotH}" class="axis"/>` +
    xAxis +
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 6}" class="label" text-anchor="middle">${escapeXml(axes.xLabel)}</text>` +
    body(x, y, top + plotH) +
    legend(legendItems) +
    '</svg>';
}

/** Points averaged down to at most MAX_POINTS. */
function thin(points: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const xs = resample(points.map((p) => p[0]), MAX_POINTS), ys = resample(points.map((p) => p[1]), MAX_POINTS);
  return xs.map((x, i) => [x, ys[i]]);
}

/** A chart of one or more series against shared axes; a legend when there is more than one. */
export function lineChart(axes: Axes, series: Series[]): string {
  const drawn = series.map((s) => ({ ...s, points: thin(s.points) })).filter((s) => s.points.length > 0);
  if (drawn.length === 0) return emptyChart(axes, 'no data recorded');
  const xs = drawn.flatMap((s) => s.points.map((p) => p[0])), ys = drawn.flatMap((s) => s.points.map((p) => p[1]));
  return frame(axes, xs, ys, drawn, (x, y, bottomPx) => drawn.map((s) => {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    const baseY = bottomPx.toFixed(1);
    const first = s.points[0], last = s.points[s.points.length - 1];
    const area = s.isFilled ? `<path d="${path}L${x(last[0]).toFixed(1)},${baseY}L${x(first[0]).toFixed(1)},${baseY}Z" fill="${s.color}" fill-opacity="0.15" stroke="none"/>` : '';
    const dots = s.hasDots ? s.points.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"><title>${escapeXml(`${axes.formatX(p[0], 1)}: ${axes.formatY(p[1])}`)}</title></circle>`).join('') : '';
    const single = s.points.length === 1 && !s.hasDots ? `<circle cx="${x(first[0]).toFixed(1)}" cy="${y(first[1]).toFixed(1)}" r="3" fill="${s.color}"/>` : '';
    return `${area}<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>${dots}${single}`;
  }).join(''));
}

/** Layers stacked on top of each other at each x (e.g. a step's time split into its parts). */
export function stackedAreaChart(axes: Axes, xs: number[], layers: Array<{ label: string; color: string; values: number[] }>): string {
  if (xs.length === 0) return emptyChart(axes, 'no data recorded');
  const thinX = resample(xs, MAX_POINTS);
  const thinLayers = layers.map((layer) => ({ ...layer, values: resample(layer.values, MAX_POINTS) }));
  const tops: number[][] = [];
  let running = thinX.map(() => 0);
  for (const layer of thinLayers) {
    running = running.map((sum, i) => sum + Math.max(0, layer.values[i]));
    tops.push(running);
  }
  return frame({ ...axes, yInclude: [0, ...(axes.yInclude ?? [])] }, thinX, running, thinLayers, (x, y) => thinLayers.map((layer, l) => {
    const upper = tops[l], lower = l === 0 ? thinX.map(() => 0) : tops[l - 1];
    const forward = thinX.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(v).toFixed(1)},${y(upper[i]).toFixed(1)}`).join('');
    const back = thinX.map((v, i) => `L${x(v).toFixed(1)},${y(lower[i]).toFixed(1)}`).reverse().join('');
    return `<path d="${forward}${back}Z" fill="${layer.color}" fill-opacity="0.85" stroke="none"/>`;
  }).join(''));
}

/** One horizontal bar per row, labelled, scaled to the largest value. */
export function barChart(rows: Array<{ label: string; value: number; color: string; note: string }>, width: number): string {
  const rowH = 26, labelW = 150, noteW = 150;
  const height = rows.length * rowH + 8;
  const barMax = width - labelW - noteW - 16;
  const max = Math.max(...rows.map((row) => row.value), 1e-12);
  const bars = rows.map((row, i) => {
    const top = 4 + i * rowH;
    const w = Math.max(1, (row.value / max) * barMax);
    return `<text x="${labelW - 8}" y="${top + 17}" class="tick" text-anchor="end">${escapeXml(row.label)}</text>` +
      `<rect x="${labelW}" y="${top + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" fill="${row.color}"/>` +
      `<text x="${(labelW + w + 8).toFixed(1)}" y="${top + 17}" class="tick">${escapeXml(row.note)}</text>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${bars}</svg>`;
}

function legend(items: Array<{ label: string; color: string }>): string {
  if (items.length < 2) return '';
  let left = MARGIN.left + 8;
  return items.map((item) => {
    const entry = `<rect x="${left}" y="${MARGIN.top - 2}" width="12" height="12" rx="2" fill="${item.color}"/>` +
      `<text x="${left + 17}" y="${MARGIN.top + 8}" class="legend">${escapeXml(item.label)}</text>`;
    left += 30 + item.label.length * 7;
    return entry;
  }).join('');
}

function emptyChart(axes: Axes, message: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${axes.width} ${axes.height}" width="${axes.width}" height="${axes.height}" role="img">` +
    `<text x="${axes.width / 2}" y="${axes.height / 2}" class="label" text-anchor="middle">${escapeXml(message)}</text></svg>`;
}
