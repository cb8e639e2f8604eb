/**
 * Terminal charts drawn with Unicode: braille line charts (2×4 dots per cell), block sparklines, progress and
 * stacked bars. Pure: they take numbers and sizes and return strings, one per row, of exactly the asked width.
 */

const SPARK = '▁▂▃▄▅▆▇█';
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
/** Bit of each dot in a braille cell, by [x][y] (x 0..1 left to right, y 0..3 top to bottom). */
const BRAILLE_BITS = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];

/** `values` squeezed to at most `points` by averaging neighbours (long histories), unchanged when short enough. */
export function resample(values: readonly number[], points: number): number[] {
  if (values.length <= points) return [...values];
  const out: number[] = [];
  for (let i = 0; i < points; i++) {
    const from = Math.floor((i * values.length) / points), to = Math.floor(((i + 1) * values.length) / points);
    let sum = 0;
    for (let j = from; j < to; j++) sum += values[j];
    out.push(sum / (to - from));
  }
  return out;
}

/** The range a chart spans: the data's, widened when flat so a constant series draws as a mid-height line. */
export function chartRange(values: readonly number[], floor?: number): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (floor !== undefined) min = Math.min(floor, min);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1 };
  if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
    const pad = Math.abs(max) > 0 ? Math.abs(max) * 0.1 : 1;
    return { min: floor !== undefined && min === floor ? floor : min - pad, max: max + pad };
  }
  return { min, max };
}

/**
 * A line chart of `values` in `width` × `height` cells of braille: the series is stretched or squeezed across
 * the full width, consecutive points joined. Returns `height` rows of `width` characters (blank cells are spaces).
 */
export function brailleChart(values: readonly number[], width: number, height: number, range = chartRange(values)): string[] {
  if (width <= 0 || height <= 0) return [];
  const dotsX = width * 2, dotsY = height * 4;
  const cells = new Uint8Array(width * height);
  const points = resample(values, dotsX);
  const span = range.max - range.min || 1;
  const yOf = (value: number): number => {
    const t = (value - range.min) / span;
    return Math.round((1 - Math.min(1, Math.max(0, t))) * (dotsY - 1));
  };
  const xOf = (i: number): number => (points.length === 1 ? 0 : Math.round((i * (dotsX - 1)) / (points.length - 1)));
  const plot = (x: number, y: number): void => {
    const cell = Math.floor(y / 4) * width + Math.floor(x / 2);
    cells[cell] |= BRAILLE_BITS[x % 2][y % 4];
  };
  if (points.length === 1) {
    for (let x = 0; x < dotsX; x++) plot(x, yOf(points[0]));
  }
  for (let i = 1; i < points.length; i++) {
    const x0 = xOf(i - 1), y0 = yOf(points[i - 1]), x1 = xOf(i), y1 = yOf(points[i]);
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) plot(Math.round(x0 + ((x1 - x0) * s) / steps), Math.round(y0 + ((y1 - y0) * s) / steps));
  }
  const rows: string[] = [];
  for (let row = 0; row < height; row++) {
    let line = '';
    for (let col = 0; col < width; col++) {
      const bits = cells[row * width + col];
      line += bits === 0 ? ' ' : String.fromCharCode(0x2800 + bits);
    }
    rows.push(line);
  }
  return rows;
}

/** A one-row chart of the last `width` values in block heights (▁ … █), right-aligned, padded with spaces. */
export function sparkline(values: readonly number[], width: number, range?: { min: number; max: number }): string {
  if (width <= 0) return '';
  const shown = values.slice(-width);
  const { min, max } = range ?? chartRange(shown, 0);
  const span = max - min || 1;
  const line = shown.map((value) => SPARK[Math.round(Math.min(1, Math.max(0, (value - min) / span)) * (SPARK.length - 1))]).join('');
  return ' '.repeat(width - shown.length) + line;
}

/** A progress bar `width` characters wide, in eighths of a cell: ████▌░░░. */
export function progressBar(fraction: number, width: number): string {
  if (width <= 0) return '';
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8];
  return '█'.repeat(full) + part + '░'.repeat(width - full - (part ? 1 : 0));
}

/**
 * One bar split into parts in proportion to their values, each drawn with its own character; the rounding error
 * goes to the largest part so the bar is always exactly `width` wide. All zero: an empty (dotted) bar.
 */
export function stackedBar(parts: ReadonlyArray<{ value: number; char: string }>, width: number): string {
  if (width <= 0) return '';
  const total = parts.reduce((sum, part) => sum + Math.max(0, part.value), 0);
  if (!(total > 0)) return '·'.repeat(width);
  const cells = parts.map((part) => Math.floor((Math.max(0, part.value) / total) * width));
  let largest = 0;
  for (let i = 1; i < parts.length; i++) if (parts[i].value > parts[largest].value) largest = i;
  cells[largest] += width - cells.reduce((sum, n) => sum + n, 0);
  return parts.map((part, i) => part.char.repeat(cells[i])).join('');
}
