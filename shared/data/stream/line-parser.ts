/** What a line-based format (CSV, NDJSON) provides to the line reader: one line in, at most one sample out. */
import type { SampleSet } from '../samples.js';
import type { SampleLayout } from './sample-buffer.js';

/** The largest class label a row may have: labels are stored as Uint16. */
export const MAX_LABEL = 0xffff;

/** A row that can't be used; `problem` is the message without the `FORMAT file:line: ` prefix. */
export class BadRow extends Error {
  override readonly name = 'BadRow';
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** Throws a BadRow; returns `never` so a built one can't be left unthrown. */
export function failRow(problem: string): never {
  throw new BadRow(problem);
}

/** Whether a number is a class label: a whole number 0..MAX_LABEL (the common case, checked before any text is built). */
export const isClassLabel = (label: number): boolean => Number.isInteger(label) && label >= 0 && label <= MAX_LABEL;

/** A class label read from a row, `shown` as the row wrote it: a whole number 0..MAX_LABEL, else a BadRow saying so. */
export function checkClassLabel(label: number, shown: string): number {
  if (!Number.isInteger(label) || label < 0) failRow(`label ${shown} is not a non-negative integer (labels are classes 0, 1, 2, …)`);
  if (label > MAX_LABEL) failRow(`label ${shown} is too large (at most ${MAX_LABEL})`);
  return label;
}

/** A SampleSet whose fields a parser rewrites for each row it reads. */
export type MutableSampleSet = { -readonly [K in keyof SampleSet]: SampleSet[K] };

/** Parses one format line by line, keeping the state (header seen, row width) that later lines are checked against. */
export interface LineParser {
  /** 'CSV' or 'NDJSON': the first word of every message. */
  readonly format: string;
  /** How samples are stored; null until the first good row fixes it. */
  readonly layout: SampleLayout | null;
  /** The sample of the last line for which parseLine returned true, as a set of one; rewritten by the next line. */
  readonly row: SampleSet;
  /** True when the line held a sample (now in `row`), false for a line without one (blank, header); a BadRow for a bad one. */
  parseLine(line: string): boolean;
  /** Why a stream that gave no sample is rejected, e.g. 'is empty, no data rows'. */
  noRowsProblem(): string;
}
