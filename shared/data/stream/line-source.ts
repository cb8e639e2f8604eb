/**
 * A line-based file or stdin (CSV, NDJSON) as a DataSource: readline over the stream, one parsed line at a time, samples
 * gathered into blocks, so memory holds one block and readline's buffer, whatever the size of the input.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import { DataError, failData } from '../errors.js';
import type { SampleSet } from '../samples.js';
import { BadRow, type LineParser } from './line-parser.js';
import { checkRowCount, DEFAULT_BLOCK_ROWS, SampleBuffer, type SampleLayout } from './sample-buffer.js';
import type { DataSource } from './source.js';

/** The name used in messages for rows read from stdin. */
export const STDIN_NAME = '<stdin>';

/** What to do with a bad row: throw (the default), or skip it, count it and tell `onBadRow`. */
export interface BadRowOptions {
  skipBadRows?: boolean;
  onBadRow?: (where: string, problem: string) => void;
}

/** Opens a file, or `stdin` when `path` is '-', and reads up to its first sample to learn the input size. */
export async function openLineSource(
  path: string, makeParser: () => LineParser, stdin: NodeJS.ReadableStream, opts: BadRowOptions = {},
): Promise<DataSource> {
  const format = makeParser().format;
  if (path === '-') {
    const pass = new LinePass(stdin, null, makeParser(), STDIN_NAME, opts);
    const layout = await firstLayout(pass);
    return new LineSource({ name: STDIN_NAME, format, layout, makeParser, opts, open: null }, pass);
  }
  const info = await stat(path).catch(() => null);
  if (!info) failData(`${format} file not found: ${path}`);
  if (!info.isFile()) failData(`${format} ${path}: is not a regular file`);
  const open = (): Readable => createReadStream(path);
  // A silent look at the head of the file: its bad rows are reported when a pass reads them.
  const head = open();
  const peek = new LinePass(head, head, makeParser(), path, { skipBadRows: opts.skipBadRows });
  try {
    return new LineSource({ name: path, format, layout: await firstLayout(peek), makeParser, opts, open }, null);
  } finally {
    peek.close();
  }
}

/** The layout fixed by the first sample of a pass, which stays pending for the pass's first block. */
async function firstLayout(pass: LinePass): Promise<SampleLayout> {
  try {
    if (!(await pass.peek())) pass.failNoRows();
  } catch (err) {
    pass.close();
    throw err;
  }
  return pass.parser.layout as SampleLayout;
}

interface LineSourceConfig {
  /** The file name in messages: the path or '<stdin>'. */
  name: string;
  format: string;
  layout: SampleLayout;
  makeParser: () => LineParser;
  opts: BadRowOptions;
  /** Opens the file from its start; null for stdin. */
  open: (() => Readable) | null;
}

class LineSource implements DataSource {
  readonly name: string;
  readonly inputSize: number;
  readonly isReplayable: boolean;
  private countedRows: number | null = null;
  private latestPass: LinePass | null;

  /** `onlyPass` is stdin's one pass, begun when the source was opened. */
  constructor(private readonly config: LineSourceConfig, private onlyPass: LinePass | null) {
    this.name = `${config.format} ${config.name}`;
    this.inputSize = config.layout.inputSize;
    this.isReplayable = config.open !== null;
    this.latestPass = onlyPass;
  }

  /** Good rows of the last complete pass; null before one. */
  get count(): number | null {
    return this.countedRows;
  }

  /** Bad rows skipped so far by the latest pass. */
  get badRows(): number {
    return this.latestPass?.badRows ?? 0;
  }

  async *blocks(blockRows = DEFAULT_BLOCK_ROWS): AsyncGenerator<SampleSet> {
    checkRowCount(blockRows, 'blockRows');
    const pass = this.startPass();
    try {
      const buffer = new SampleBuffer(this.config.layout, blockRows);
      while (await pass.nextRow()) {
        const row = pass.parser.row;
        if (pass.rows === 1) this.checkUnchanged(pass.parser.layout as SampleLayout);
        buffer.append(row, 0);
        if (row.targetSize > buffer.targetSize) buffer.targetSize = row.targetSize;
        if (buffer.isFull) yield buffer.take();
      }
      if (pass.rows === 0) pass.failNoRows(); // a file can lose its rows between passes
      if (buffer.count > 0) yield buffer.take();
      this.countedRows = pass.rows;
    } finally {
      pass.close();
    }
  }

  /** A file rewritten since it was opened may have rows of another shape: refuse them rather than misread them. */
  private checkUnchanged(layout: SampleLayout): void {
    const { format, name, layout: opened } = this.config;
    const now = describeShape(layout), then = describeShape(opened);
    if (now !== then) failData(`${format} ${name}: changed since it was opened: its rows now have ${now}, they had ${then}`);
  }

  /** A new pass over the file, or stdin's only pass the first time and an error after that. */
  private startPass(): LinePass {
    const { open, format, name, makeParser, opts } = this.config;
    if (!open) {
      const pass = this.onlyPass ?? failData(`${format} ${name}: can be read only once; collect it with readAll() to read it again`);
      this.onlyPass = null;
      return pass;
    }
    const file = open();
    this.latestPass = new LinePass(file, file, makeParser(), name, opts);
    return this.latestPass;
  }
}

/** What a row holds, e.g. '4 inputs and a label' or '4 inputs and 3 targets'. */
function describeShape(layout: SampleLayout): string {
  return `${layout.inputSize} inputs and ${layout.hasLabels ? 'a label' : `${layout.targetSize} targets`}`;
}

/** One read of the lines of a stream, from its first line to its last or to close(). */
class LinePass {
  lineNumber = 0;
  rows = 0;
  badRows = 0;
  private isRowPending = false;
  private readonly reader: Interface;
  private readonly lines: AsyncIterator<string>;

  constructor(
    input: NodeJS.ReadableStream,
    /** The stream to destroy on close: the file's; null for stdin, which isn't ours to end. */
    private readonly ownedInput: Readable | null,
    readonly parser: LineParser,
    private readonly name: string,
    private readonly opts: BadRowOptions,
  ) {
    this.reader = createInterface({ input, crlfDelay: Infinity });
    this.lines = this.reader[Symbol.asyncIterator]();
  }

  /** Advances to the next line holding a sample (now in parser.row); false at the end of the stream. */
  async nextRow(): Promise<boolean> {
    if (this.isRowPending) {
      this.isRowPending = false;
      return true;
    }
    for (;;) {
      const next = await this.nextLine();
      if (next === null) return false;
      this.lineNumber++;
      try {
        if (this.parser.parseLine(next)) {
          this.rows++;
          return true;
        }
      } catch (err) {
        if (!(err instanceof BadRow)) throw err;
        this.onBadRow(err.problem);
      }
    }
  }

  /** Like nextRow, but the row it finds is returned again by the next nextRow. */
  async peek(): Promise<boolean> {
    this.isRowPending = await this.nextRow();
    return this.isRowPending;
  }

  /** Throws the error for a stream without a good row, e.g. 'CSV data.csv: only a header line, no data rows'. */
  failNoRows(): never {
    const problem = this.badRows > 0 ? `no good data rows (${this.badRows} bad rows skipped)` : this.parser.noRowsProblem();
    failData(`${this.parser.format} ${this.name}: ${problem}`);
  }

  /** Stops reading: closes readline and the file (stdin is left open). */
  close(): void {
    void this.lines.return?.();
    this.reader.close();
    this.ownedInput?.destroy();
  }

  private async nextLine(): Promise<string | null> {
    try {
      const next = await this.lines.next();
      return next.done ? null : next.value;
    } catch (err) {
      if (err instanceof DataError) throw err;
      failData(`${this.parser.format} ${this.name}: read failed: ${(err as Error).message}`);
    }
  }

  private onBadRow(problem: string): void {
    const where = `${this.name}:${this.lineNumber}`;
    if (!this.opts.skipBadRows) failData(`${this.parser.format} ${where}: ${problem}`);
    this.badRows++;
    this.opts.onBadRow?.(where, problem);
  }
}
