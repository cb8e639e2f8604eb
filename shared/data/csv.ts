/**
 * CSV data held in memory: rows `label,x1,…,xn`, read line by line from a file or stdin (the parsing rules and
 * messages live in stream/csv-rows.ts, shared with streaming). Inputs are used as they are (xDivisor 1); labels
 * are non-negative integers and the target size is the largest label + 1.
 */
import { readAll } from './stream/in-memory.js';
import { CsvLineParser } from './stream/csv-rows.js';
import { openLineSource } from './stream/line-source.js';
import type { SampleSet } from './samples.js';

export { STDIN_NAME } from './stream/line-source.js';

/** Reads a CSV file, or stdin when `path` is '-' (from `stdin`, default process.stdin). */
export async function readCsv(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<SampleSet> {
  return readAll(await openLineSource(path, () => new CsvLineParser(), stdin));
}
