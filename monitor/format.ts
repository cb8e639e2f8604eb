/**
 * Short, fixed-width renderings of numbers and text for the terminal views: rates, bytes, durations, and the
 * width arithmetic that ignores ANSI colour codes. Pure.
 */
import type { StatusSnapshot } from '../shared/protocol/status.js';

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** 12 → "12", 12345 → "12.3k", 2.5e6 → "2.50M"; at most 5 characters for values below 1e12. */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs < 10) return value.toFixed(abs === 0 ? 0 : 1);
  if (abs < 1000) return value.toFixed(0);
  for (const [scale, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (abs >= scale) {
      const scaled = value / scale;
      return `${Math.abs(scaled) < 10 ? scaled.toFixed(2) : Math.abs(scaled) < 100 ? scaled.toFixed(1) : scaled.toFixed(0)}${suffix}`;
    }
  }
  return value.toFixed(0);
}

/** 512 → "512B", 1536 → "1.5k", 3.4e6 → "3.4M": at most 4 characters below 1 TB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  if (bytes < 1000) return `${Math.round(bytes)}B`;
  for (const [scale, suffix] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (bytes >= scale) {
      const scaled = bytes / scale;
      return `${scaled < 9.95 ? scaled.toFixed(1) : Math.min(999, Math.round(scaled)).toFixed(0)}${suffix}`;
    }
  }
  return `${bytes}B`;
}

/** Milliseconds in at most 6 characters: "0.42ms", "12.3ms", "123ms", "1.23s", "12.3s", "2m05s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${ms.toFixed(0)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(1)}s`;
  return formatClock(ms);
}

/** A heartbeat age in at most 4 characters: "0.3s", "12s", "5m", "3h". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 100_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 6_000_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.min(999, Math.round(ms / 3_600_000))}h`;
}

/** A duration as m:ss or h:mm:ss; "--:--" when unknown. */
export function formatClock(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '--:--';
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600), minutes = Math.floor((total % 3600) / 60), seconds = total % 60;
  const ss = String(seconds).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}

/** 0.9312 → "93.12%"; null → "n/a". */
export const formatPercent = (fraction: number | null, digits = 2): string =>
  fraction === null || !Number.isFinite(fraction) ? 'n/a' : `${(fraction * 100).toFixed(digits)}%`;

/** A cost or error in 6 significant characters: 0.04213 → "0.0421", 1.2e-7 → "1.2e-7". */
export function formatCost(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.001 || abs >= 1e5)) return value.toExponential(1).replace('e+', 'e');
  return value.toPrecision(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** Local wall-clock time of day, hh:mm:ss. */
export function formatTimeOfDay(timeMs: number): string {
  const date = new Date(timeMs);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Text from the wire with control characters (escape sequences, newlines) replaced, so it cannot drive the terminal. */
export function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Characters a terminal shows: the length without ANSI colour codes (every character we draw is one column wide). */
export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** Cuts `text` to `width` visible columns (marking the cut with "…"), keeping colour codes intact. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (visibleLength(text) <= width) return text;
  let out = '';
  let shown = 0;
  let hasStyle = false;
  for (let i = 0; i < text.length;) {
    ANSI.lastIndex = i;
    const code = text[i] === '\x1b' ? ANSI.exec(text) : null;
    if (code && code.index === i) {
      out += code[0];
      hasStyle = true;
      i += code[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i) as number);
    if (shown === width - 1) {
      out += '…';
      break;
    }
    out += char;
    shown++;
    i += char.length;
  }
  return hasStyle ? `${out}\x1b[0m` : out;
}

/** Pads (or cuts) to exactly `width` visible columns, text on the left. */
export function padRight(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + ' '.repeat(Math.max(0, width - visibleLength(cut)));
}

/** Pads (or cuts) to exactly `width` visible columns, text on the right. */
export function padLeft(text: string, width: number): string {
  const cut = truncate(text, width);
  return ' '.repeat(Math.max(0, width - visibleLength(cut))) + cut;
}

/** "1 worker", "3 workers". */
export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * ' · cross-entropy, λ 5, float32' for the options that differ from the seed's (quadratic cost, no λ, float64);
 * nothing for the seed's own job.
 */
export function jobOptionsText(job: NonNullable<StatusSnapshot['job']>): string {
  const cost = job.cost && job.cost !== 'quadratic' ? sanitize(job.cost) : '';
  const lambda = job.lambda ? `λ ${job.lambda}` : '';
  const dtype = job.dtype && job.dtype !== 'float64' ? sanitize(job.dtype) : '';
  const options = [cost, lambda, dtype].filter(Boolean);
  return options.length > 0 ? ` · ${options.join(', ')}` : '';
}
