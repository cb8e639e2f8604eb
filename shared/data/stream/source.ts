/**
 * Every data source as an async iterable of blocks read incrementally, so a dataset far larger than memory can be
 * trained on: `openSource(spec)` for the `--data` forms of ../spec.ts plus `ndjson:FILE` / `ndjson:-`.
 */
import { DataError, failData } from '../errors.js';
import { loadBundledMnist } from '../mnist.js';
import type { SampleSet } from '../samples.js';
import { parseDataSpec, type DataSpec } from '../spec.js';
import { CsvLineParser } from './csv-rows.js';
import { checkIsIdxDirectory, findIdxPair, requireIdxPair } from './idx-files.js';
import { openIdxPairSource } from './idx-source.js';
import { memorySource } from './in-memory.js';
import { openLineSource, type BadRowOptions } from './line-source.js';
import { NdjsonLineParser } from './ndjson-rows.js';

export { DEFAULT_BLOCK_ROWS } from './sample-buffer.js';

/** A dataset read in one pass, in stored order, a block at a time. */
export interface DataSource {
  /** What the source is, for messages: 'CSV data.csv', 'IDX dir/train-images-idx3-ubyte.gz', 'bundled MNIST train'. */
  readonly name: string;
  readonly inputSize: number;
  /** Known before reading (IDX header, memory); null for CSV and NDJSON until a pass has counted the good rows. */
  readonly count: number | null;
  /** Whether blocks() can be called again (files, memory) or only once (stdin). */
  readonly isReplayable: boolean;
  /** Rows skipped as bad by the latest pass so far (only with skipBadRows; 0 for IDX and memory). */
  readonly badRows: number;
  /**
   * One pass, in stored order, in compact blocks of at most `blockRows` (default DEFAULT_BLOCK_ROWS) samples that
   * the consumer owns. A block's targetSize covers the samples read so far in the pass (for labels: the largest + 1),
   * so the last block's is the pass's. Stopping early (break) closes the files.
   */
  blocks(blockRows?: number): AsyncIterable<SampleSet>;
}

/** Where stdin comes from (default process.stdin) and what to do with bad CSV/NDJSON rows. */
export interface SourceOptions extends BadRowOptions {
  stdin?: NodeJS.ReadableStream;
}

/** A parsed spec: the in-memory loaders' forms plus NDJSON; a path of '-' means stdin. */
export type SourceSpec = DataSpec | { kind: 'ndjson'; path: string };

const NDJSON_FORMS = 'ndjson:FILE (rows {"x":[…],"label":k} or {"x":[…],"y":[…]}), ndjson:- (NDJSON on stdin)';

/** Parses `ndjson:FILE` / `ndjson:-`, and everything else as parseDataSpec does, listing NDJSON in the accepted forms. */
export function parseSourceSpec(text: string): SourceSpec {
  if (text.startsWith('ndjson:') && text.length > 7) return { kind: 'ndjson', path: text.slice(7) };
  try {
    return parseDataSpec(text);
  } catch (err) {
    if (err instanceof DataError) failData(`${err.message}, ${NDJSON_FORMS}`);
    throw err;
  }
}

/**
 * Opens what a `--data SPEC` names: mnist → bundled train + test (in memory), idx:DIR → train + t10k pairs (test null
 * when absent), csv:FILE / ndjson:FILE → train only, '-' for stdin. Checks headers and first rows now, so a bad spec
 * or file fails here rather than mid-training.
 */
export async function openSource(spec: string, opts: SourceOptions = {}): Promise<{ train: DataSource; test: DataSource | null }> {
  const parsed = parseSourceSpec(spec);
  const stdin = opts.stdin ?? process.stdin;
  switch (parsed.kind) {
    case 'mnist': {
      const { train, test } = loadBundledMnist();
      return { train: memorySource(train, 'bundled MNIST train'), test: memorySource(test, 'bundled MNIST test') };
    }
    case 'idx': {
      await checkIsIdxDirectory(parsed.dir);
      const train = await openIdxPairSource(...(await requireIdxPair(parsed.dir, 'train')));
      const testPair = await findIdxPair(parsed.dir, 't10k');
      return { train, test: testPair ? await openIdxPairSource(...testPair) : null };
    }
    case 'csv':
      return { train: await openLineSource(parsed.path, () => new CsvLineParser(), stdin, opts), test: null };
    case 'ndjson':
      return { train: await openLineSource(parsed.path, () => new NdjsonLineParser(), stdin, opts), test: null };
    default:
      return assertNever(parsed);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled data spec ${JSON.stringify(value)}`);
}
