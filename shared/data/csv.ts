/**
 * CSV data: rows `label,x1,…,xn`, read line by line from a file or stdin. Inputs are used as they are (xDivisor 1);
 * labels are non-negative integers and the target size is the largest label + 1.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DataError, failData } from './errors.js';
import type { SampleSet } from './samples.js';

/** The name used in messages for rows read from stdin. */
export const STDIN_NAME = '<stdin>';
const MAX_LABEL = 0xffff;
const INITIAL_ROWS = 1024;
/** A decimal number as people write it; rejects '', 'NaN', 'Infinity', '0x10' and other forms Number() accepts. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads a CSV file, or stdin when `path` is '-' (from `stdin`, default process.stdin). */
export async function readCsv(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<SampleSet> {
  if (path === '-') return readCsvStream(stdin, STDIN_NAME);
  const info = await stat(path).catch(() => null);
  if (!info) failData(`CSV file not found: ${path}`);
  if (!info.isFile()) failData(`CSV ${path}: is not a regular file`);
  const input = createReadStream(path);
  try {
    return await readCsvStream(input, path);
  } finally {
    input.destroy();
  }
}

/** Reads CSV rows from a stream; `name` is the file name used in error messages. */
export function readCsvStream(input: NodeJS.ReadableStream, name: string): Promise<SampleSet> {
  const rows = new CsvRows(name);
  return new Promise((resolve, reject) => {
    let hasFailed = false;
    const lines = createInterface({ input, crlfDelay: Infinity });
    const fail = (err: unknown): void => {
      if (hasFailed) return;
      hasFailed = true;
      lines.close();
      reject(err);
    };
    lines.on('line', (line: string) => {
      if (hasFailed) return;
      try {
        rows.add(line);
      } catch (err) {
        fail(err);
      }
    });
    lines.on('close', () => {
      if (hasFailed) return;
      try {
        resolve(rows.finish());
      } catch (err) {
        fail(err);
      }
    });
    // readline re-emits input errors on the interface (and listens on the input itself), so both need a listener.
    const onReadError = (err: Error): void => fail(new DataError(`CSV ${name}: read failed: ${err.message}`));
    input.on('error', onReadError);
    lines.on('error', onReadError);
  });
}

/** Accumulates parsed rows into typed arrays that grow by doubling. */
class CsvRows {
  private lineNumber = 0;
  private hasSeenContent = false;
  private hasHeader = false;
  private width = 0; // fields per row, label included; 0 until the first data row
  private count = 0;
  private maxLabel = 0;
  private x = new Float64Array(0);
  private labels = new Uint16Array(INITIAL_ROWS);

  constructor(private readonly name: string) {}

  /** Parses one line: skips blank lines and a header first line, checks and stores a data row. */
  add(line: string): void {
    this.lineNumber++;
    if (line.trim() === '') return;
    const isFirstContent = !this.hasSeenContent;
    this.hasSeenContent = true;
    if (isFirstContent && !DECIMAL.test(firstField(line))) {
      this.hasHeader = true;
      return;
    }
    const fieldCount = countFields(line);
    if (this.width === 0) this.startRows(fieldCount);
    else if (fieldCount !== this.width) {
      this.fail(`expected ${this.width} fields (label + ${this.width - 1} inputs) like the first row, got ${fieldCount}`);
    }
    this.ensureRoom();
    this.storeRow(line);
  }

  /** The first data row fixes the width of every row. */
  private startRows(fieldCount: number): void {
    if (fieldCount < 2) this.fail(`expected a label and at least one input, got ${fieldCount} field`);
    this.width = fieldCount;
    this.x = new Float64Array(INITIAL_ROWS * (fieldCount - 1));
  }

  /** Writes the label and inputs of a row whose width is already checked. */
  private storeRow(line: string): void {
    const inputs = this.width - 1;
    const xOffset = this.count * inputs;
    let start = 0;
    for (let field = 0; field < this.width; field++) {
      let end = line.indexOf(',', start);
      if (end < 0) end = line.length;
      const text = line.slice(start, end).trim();
      if (field === 0) this.labels[this.count] = this.parseLabel(text);
      else this.x[xOffset + field - 1] = this.parseNumber(text, field);
      start = end + 1;
    }
    this.count++;
  }

  private parseLabel(text: string): number {
    if (!DECIMAL.test(text)) this.fail(`label "${text}" is not a number`);
    const label = Number(text);
    if (!Number.isInteger(label) || label < 0) this.fail(`label ${text} is not a non-negative integer (labels are classes 0, 1, 2, …)`);
    if (label > MAX_LABEL) this.fail(`label ${text} is too large (at most ${MAX_LABEL})`);
    if (label > this.maxLabel) this.maxLabel = label;
    return label;
  }

  private parseNumber(text: string, field: number): number {
    if (!DECIMAL.test(text)) this.fail(`input ${field} "${text}" is not a number`);
    const value = Number(text);
    if (!Number.isFinite(value)) this.fail(`input ${field} "${text}" is out of range for a double`);
    return value;
  }

  /** Doubles both arrays when the next row would not fit. */
  private ensureRoom(): void {
    if (this.count < this.labels.length) return;
    const labels = new Uint16Array(this.labels.length * 2);
    labels.set(this.labels);
    const x = new Float64Array(this.x.length * 2);
    x.set(this.x);
    this.labels = labels;
    this.x = x;
  }

  /** The set read so far, arrays trimmed to the row count. */
  finish(): SampleSet {
    if (this.count === 0) {
      failData(this.hasHeader ? `CSV ${this.name}: only a header line, no data rows` : `CSV ${this.name}: is empty, no data rows`);
    }
    const inputSize = this.width - 1;
    return {
      count: this.count,
      inputSize,
      x: this.x.slice(0, this.count * inputSize),
      xDivisor: 1,
      labels: this.labels.slice(0, this.count),
      y: null,
      targetSize: this.maxLabel + 1,
    };
  }

  private fail(problem: string): never {
    failData(`CSV ${this.name}:${this.lineNumber}: ${problem}`);
  }
}

/** The text before the first comma, trimmed. */
function firstField(line: string): string {
  const comma = line.indexOf(',');
  return (comma < 0 ? line : line.slice(0, comma)).trim();
}

/** Number of comma-separated fields, counted without splitting. */
function countFields(line: string): number {
  let fields = 1;
  for (let i = line.indexOf(','); i >= 0; i = line.indexOf(',', i + 1)) fields++;
  return fields;
}
