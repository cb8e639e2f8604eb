/**
 * CSV rows `label,x1,…,xn`, parsed one line at a time with the rules and messages of the in-memory reader (../csv.ts):
 * blank lines and a header first line are skipped, inputs are used as they are (xDivisor 1), labels are classes.
 */
import type { SampleSet } from '../samples.js';
import { checkClassLabel, failRow, isClassLabel, type LineParser, type MutableSampleSet } from './line-parser.js';
import type { SampleLayout } from './sample-buffer.js';

/** Parses CSV lines; the first good data row fixes the number of fields of every row. */
export class CsvLineParser implements LineParser {
  readonly format = 'CSV';
  layout: SampleLayout | null = null;
  private hasSeenContent = false;
  private hasHeader = false;
  private width = 0; // fields per row, label included; 0 until the first good data row
  private readonly current: MutableSampleSet = {
    count: 1, inputSize: 0, x: new Float64Array(0), xDivisor: 1, labels: new Uint16Array(1), y: null, targetSize: 1,
  };

  get row(): SampleSet {
    return this.current;
  }

  parseLine(line: string): boolean {
    if (line.trim() === '') return false;
    const isFirstContent = !this.hasSeenContent;
    this.hasSeenContent = true;
    if (isFirstContent && !isDecimal(firstField(line))) {
      this.hasHeader = true;
      return false;
    }
    const fieldCount = countFields(line);
    if (this.width === 0) {
      if (fieldCount < 2) failRow(`expected a label and at least one input, got ${fieldCount} field`);
      this.sizeRow(fieldCount - 1);
    } else if (fieldCount !== this.width) {
      failRow(`expected ${this.width} fields (label + ${this.width - 1} inputs) like the first row, got ${fieldCount}`);
    }
    this.storeFields(line, fieldCount);
    if (this.width === 0) {
      this.width = fieldCount;
      this.layout = { inputSize: fieldCount - 1, xType: Float64Array, xDivisor: 1, hasLabels: true, targetSize: 1 };
    }
    return true;
  }

  noRowsProblem(): string {
    return this.hasHeader ? 'only a header line, no data rows' : 'is empty, no data rows';
  }

  /** Before the width is fixed, a candidate first row gets a scratch row of its own width. */
  private sizeRow(inputs: number): void {
    if (this.current.inputSize === inputs) return;
    this.current.inputSize = inputs;
    this.current.x = new Float64Array(inputs);
  }

  /** Parses the label and inputs of a row whose field count is already checked into `current`. */
  private storeFields(line: string, fieldCount: number): void {
    const x = this.current.x;
    let start = 0;
    for (let field = 0; field < fieldCount; field++) {
      let end = line.indexOf(',', start);
      if (end < 0) end = line.length;
      const quick = quickDecimal(line, start, end);
      if (field === 0) {
        if (isClassLabel(quick)) this.setLabel(quick);
        else this.storeLabel(line.slice(start, end).trim());
      } else {
        x[field - 1] = Number.isNaN(quick) ? parseInput(line.slice(start, end).trim(), field) : quick;
      }
      start = end + 1;
    }
  }

  /** The general path for a label, which also finds what is wrong with a bad one. */
  private storeLabel(text: string): void {
    if (!isDecimal(text)) failRow(`label "${text}" is not a number`);
    this.setLabel(checkClassLabel(Number(text), text));
  }

  private setLabel(label: number): void {
    (this.current.labels as Uint16Array)[0] = label;
    this.current.targetSize = label + 1;
  }
}

/** The general path for an input, which also finds what is wrong with a bad one. */
export function parseInput(text: string, field: number): number {
  if (!isDecimal(text)) failRow(`input ${field} "${text}" is not a number`);
  const value = Number(text);
  if (!Number.isFinite(value)) failRow(`input ${field} "${text}" is out of range for a double`);
  return value;
}

/** 10^0 … 10^22: every one exactly representable as a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_QUICK_DIGITS = 15; // below 2^53, so the digits form an exact integer

/**
 * The number in line[start, end) when it is a plain decimal without spaces or exponent and with at most 15 digits
 * (e.g. `-37.125`, `255`, `.5`); NaN otherwise, leaving it to Number(). For these, digits / 10^decimals divides two
 * exact doubles, so the one rounding gives exactly Number()'s result (Clinger's fast path), without a substring.
 */
export function quickDecimal(line: string, start: number, end: number): number {
  let i = start;
  let sign = 1;
  const first = line.charCodeAt(i);
  if (first === 45 /* - */ || first === 43 /* + */) {
    if (first === 45) sign = -1;
    i++;
  }
  let digits = 0, mantissa = 0, decimals = 0, hasPoint = false;
  for (; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (hasPoint) decimals++;
    } else if (c === 46 /* . */ && !hasPoint) {
      hasPoint = true;
    } else {
      return Number.NaN; // a space, an exponent, a second point or anything else: the general path decides
    }
  }
  if (digits === 0 || digits > MAX_QUICK_DIGITS) return Number.NaN;
  return sign * (decimals === 0 ? mantissa : mantissa / POWERS_OF_TEN[decimals]);
}

/** The text before the first comma, trimmed. */
export function firstField(line: string): string {
  const comma = line.indexOf(',');
  return (comma < 0 ? line : line.slice(0, comma)).trim();
}

/** Number of comma-separated fields, counted without splitting. */
export function countFields(line: string): number {
  let fields = 1;
  for (let i = line.indexOf(','); i >= 0; i = line.indexOf(',', i + 1)) fields++;
  return fields;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number as people write it; rejects '', 'NaN', 'Infinity', '0x10' and other forms Number() accepts. */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}
