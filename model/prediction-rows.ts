/**
 * The rows `nabla predict` reads, one line each, parsed straight into a row of the forward pass's input block:
 * CSV `x1,…,xn` (or `label,x1,…,xn` with --labelled, as in training files) or NDJSON `{"x":[…]}` (an optional
 * "label" is kept, other keys are ignored). Unlike the training readers (shared/data/stream), the row width is fixed
 * by the model, not by the first row, and CSV rows need not start with a label; the number rules, the header rule
 * and the BadRow error are theirs.
 */
import { countFields, firstField, isDecimal, parseInput, quickDecimal } from '../shared/data/stream/csv-rows.js';
import { checkClassLabel, failRow, isClassLabel } from '../shared/data/stream/line-parser.js';

export const ROW_FORMATS = ['csv', 'ndjson'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export interface RowOptions {
  format: RowFormat;
  /** Inputs per row: the model's sizes[0]. */
  inputs: number;
  /** CSV rows start with a label (ignored for the prediction, echoed with --outputs). */
  isLabelled: boolean;
  /** Every input is divided by this (1: used as they are). */
  divisor: number;
}

/** Parses prediction rows; keeps only the state the header rule needs. */
export class PredictionRowParser {
  /** The label of the last parsed row, or -1 when it had none. */
  label = -1;
  private hasSeenContent = false;

  constructor(private readonly options: RowOptions) {}

  /**
   * Parses one line into x[offset, offset + inputs). True when it held a row; false for a blank line or a CSV header
   * (a first line whose first field is not a number). A malformed row throws a BadRow saying what is wrong.
   */
  parse(line: string, x: Float64Array, offset: number): boolean {
    if (line.trim() === '') return false;
    const isFirstContent = !this.hasSeenContent;
    this.hasSeenContent = true;
    if (this.options.format === 'ndjson') {
      this.parseNdjson(line, x, offset);
      return true;
    }
    if (isFirstContent && !isDecimal(firstField(line))) return false;
    this.parseCsv(line, x, offset);
    return true;
  }

  private parseCsv(line: string, x: Float64Array, offset: number): void {
    const { inputs, isLabelled, divisor } = this.options;
    const labelFields = isLabelled ? 1 : 0;
    const fields = countFields(line);
    if (fields !== inputs + labelFields) failRow(this.widthProblem(fields));
    let start = 0;
    this.label = -1;
    for (let field = 0; field < fields; field++) {
      let end = line.indexOf(',', start);
      if (end < 0) end = line.length;
      if (field < labelFields) this.label = checkLabel(line.slice(start, end).trim());
      else {
        const k = field - labelFields;
        // Plain decimals (nearly every field) are read in place, as the training reader does; the rest go the general way.
        const quick = quickDecimal(line, start, end);
        x[offset + k] = (Number.isNaN(quick) ? parseInput(line.slice(start, end).trim(), k + 1) : quick) / divisor;
      }
      start = end + 1;
    }
  }

  private widthProblem(fields: number): string {
    const { inputs, isLabelled } = this.options;
    const want = isLabelled ? `a label and ${inputs} inputs (${inputs + 1} fields)` : `${inputs} inputs`;
    let hint = '';
    if (!isLabelled && fields === inputs + 1) hint = '; if the first field is a label, add --labelled';
    if (isLabelled && fields === inputs) hint = '; if the rows have no label, leave out --labelled';
    return `expected ${want} for the model, got ${fields} field${fields === 1 ? '' : 's'}${hint}`;
  }

  private parseNdjson(line: string, x: Float64Array, offset: number): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      failRow(`not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) failRow('expected an object like {"x":[…]}');
    const row = parsed as Record<string, unknown>;
    const values = row.x;
    const { inputs, divisor } = this.options;
    if (!Array.isArray(values)) failRow('"x" must be an array of numbers, like {"x":[…]}');
    if (values.length !== inputs) failRow(`"x" has ${values.length} values, the model takes ${inputs} inputs`);
    for (let k = 0; k < inputs; k++) {
      const value: unknown = values[k];
      if (typeof value !== 'number' || !Number.isFinite(value)) failRow(`x[${k}] is ${JSON.stringify(value) ?? 'nothing'}, not a finite number`);
      x[offset + k] = value / divisor;
    }
    this.label = 'label' in row ? checkLabel(row.label) : -1;
  }
}

/** A label as text (CSV) or a JSON value (NDJSON): a class 0, 1, 2, … */
function checkLabel(value: unknown): number {
  const label = typeof value === 'string' && isDecimal(value) ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  // Anything else (NaN) is refused by checkClassLabel as not a non-negative integer.
  return isClassLabel(label) ? label : checkClassLabel(label, JSON.stringify(value));
}
