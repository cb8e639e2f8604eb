/**
 * NDJSON rows, one JSON object a line: `{"x":[…],"label":k}` (a class) or `{"x":[…],"y":[…]}` (a full target vector).
 * The first good row fixes the form and the widths of every row; blank lines are skipped, other keys ignored.
 */
import type { SampleSet } from '../samples.js';
import { checkClassLabel, failRow, isClassLabel, type LineParser, type MutableSampleSet } from './line-parser.js';
import type { SampleLayout } from './sample-buffer.js';

const FORMS = '{"x":[…],"label":k} or {"x":[…],"y":[…]}';

/** Parses NDJSON lines into samples with Float64 inputs (xDivisor 1) and labels or Float64 target vectors. */
export class NdjsonLineParser implements LineParser {
  readonly format = 'NDJSON';
  layout: SampleLayout | null = null;
  private readonly current: MutableSampleSet = {
    count: 1, inputSize: 0, x: new Float64Array(0), xDivisor: 1, labels: null, y: null, targetSize: 1,
  };

  get row(): SampleSet {
    return this.current;
  }

  parseLine(line: string): boolean {
    if (line.trim() === '') return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      failRow(`not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      failRow(`expected an object like ${FORMS}, got ${kindOf(parsed)}`);
    }
    const row = parsed as Record<string, unknown>;
    const hasLabel = 'label' in row, hasY = 'y' in row;
    if (hasLabel && hasY) failRow('has both "label" and "y"; use one of them');
    if (!hasLabel && !hasY) failRow(`has neither "label" nor "y"; expected ${FORMS}`);
    const layout = this.layout;
    if (layout && layout.hasLabels !== hasLabel) {
      failRow(`uses "${hasLabel ? 'label' : 'y'}" but the first row used "${layout.hasLabels ? 'label' : 'y'}"; every row must use the same form`);
    }
    const xs = numberArray(row, 'x', layout?.inputSize ?? null);
    const ys = hasY ? numberArray(row, 'y', layout?.targetSize ?? null) : null;
    const label = hasLabel ? checkLabel(row.label) : 0;
    this.store(xs, ys, label);
    this.layout ??= { inputSize: xs.length, xType: Float64Array, xDivisor: 1, hasLabels: hasLabel, targetSize: ys ? ys.length : 1 };
    return true;
  }

  noRowsProblem(): string {
    return 'is empty, no data rows';
  }

  /** Copies a checked row into `current`, sizing its arrays for the first row. */
  private store(xs: number[], ys: number[] | null, label: number): void {
    const current = this.current;
    if (current.x.length !== xs.length) current.x = new Float64Array(xs.length);
    current.inputSize = xs.length;
    for (let k = 0; k < xs.length; k++) current.x[k] = xs[k];
    if (ys) {
      if (current.y?.length !== ys.length) current.y = new Float64Array(ys.length);
      for (let j = 0; j < ys.length; j++) current.y[j] = ys[j];
      current.labels = null;
      current.targetSize = ys.length;
    } else {
      current.labels ??= new Uint16Array(1);
      current.labels[0] = label;
      current.y = null;
      current.targetSize = label + 1;
    }
  }
}

/** The array `row[key]` of finite numbers, non-empty and, once the first row fixed it, of width `expected`. */
function numberArray(row: Record<string, unknown>, key: 'x' | 'y', expected: number | null): number[] {
  const values = row[key];
  if (!Array.isArray(values)) failRow(`"${key}" must be an array of numbers, got ${kindOf(values)}`);
  if (values.length === 0) failRow(`"${key}" is empty; expected at least one number`);
  if (expected !== null && values.length !== expected) {
    failRow(`"${key}" has ${values.length} values, expected ${expected} like the first row`);
  }
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v !== 'number') failRow(`${key}[${i}] is ${kindOf(v)}, not a number`);
    if (!Number.isFinite(v)) failRow(`${key}[${i}] is out of range for a double`); // JSON has no NaN, but 1e999 parses to Infinity
  }
  return values as number[];
}

function checkLabel(value: unknown): number {
  if (typeof value !== 'number') failRow(`label ${kindOf(value)} is not a number`);
  return isClassLabel(value) ? value : checkClassLabel(value, String(value));
}

/** A short description of a JSON value for messages: `"bird"`, `null`, `an array`, `an object`, `true`. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}
