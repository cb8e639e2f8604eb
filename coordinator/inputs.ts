import { statSync } from 'node:fs';
import { DataError } from '../shared/data/errors.js';
import { loadIdxTestPair } from '../shared/data/idx.js';
import { checkFitsNetwork, type SampleSet } from '../shared/data/samples.js';
import { readAll } from '../shared/data/stream/in-memory.js';
import { openSource, parseSourceSpec, type DataSource } from '../shared/data/stream/source.js';
import { outputSize, type ParamLayout } from '../shared/network/layout.js';
import { usage } from '../shared/usage-error.js';
import { memoryData, type TrainingData } from './epoch-data.js';
import { streamData } from './stream-data.js';

/** Shuffle-buffer size used when a dataset is streamed without an explicit --shuffle-buffer. */
export const DEFAULT_SHUFFLE_BUFFER = 65_536;

export interface InputOptions {
  dataSpec: string;
  testSpec: string | null;
  layout: ParamLayout;
  epochs: number;
  /** 0: decide (in memory when it fits under memoryLimitBytes, else streamed); N: stream through N samples. */
  shuffleBuffer: number;
  memoryLimitBytes: number;
  /** Keep a one-pass source (stdin) in memory so that it can be trained on for several epochs. */
  cache: boolean;
  skipBadRows: boolean;
}

export interface Inputs {
  train: TrainingData;
  test: SampleSet | null;
  description: string;
  /** Bad rows skipped so far (with --skip-bad-rows). */
  badRows(): number;
}

/** Bytes the training set would take in memory, when it can be told before reading it. */
function estimatedBytes(spec: string, source: DataSource): number | null {
  const parsed = parseSourceSpec(spec);
  if (parsed.kind === 'mnist') return 0;
  if (parsed.kind === 'idx') return source.count === null ? null : source.count * source.inputSize;
  if (parsed.path === '-') return null;
  // CSV/NDJSON text takes about as many bytes per value ("0.1234,") as the float64 it becomes.
  return statSync(parsed.path).size;
}

/**
 * Opens the training and test data and decides how training reads them: the whole set in memory with a full
 * shuffle each epoch when it fits (the seed's behaviour), else streamed from the source every epoch through a
 * seeded shuffle buffer. Problems with the data or the flags are usage errors (exit 2).
 */
export async function openInputs(options: InputOptions, warn: (message: string) => void): Promise<Inputs> {
  const { layout } = options;
  const nIn = layout.sizes[0];
  const nOut = outputSize(layout);
  try {
    const skipped = { rows: 0 };
    const sources = await openSource(options.dataSpec, {
      skipBadRows: options.skipBadRows,
      onBadRow: (where, problem) => {
        if (skipped.rows++ < 5) warn(`skipping bad row ${where}: ${problem}`);
      },
    });
    const source = sources.train;
    if (source.inputSize !== nIn) {
      usage(`--data ${options.dataSpec} has ${source.inputSize} inputs per sample but --sizes starts with ${nIn}; use --sizes ${source.inputSize},…,${nOut}`);
    }
    const test = await testSet(options, sources.test);
    if (test) checkFitsNetwork(test, nIn, nOut, `--test ${options.testSpec ?? options.dataSpec}`);
    const estimate = estimatedBytes(options.dataSpec, source);
    const isStreamed = options.shuffleBuffer > 0 || (!options.cache && (estimate === null || estimate > options.memoryLimitBytes));
    if (isStreamed && !source.isReplayable && options.epochs > 1) {
      usage(`${source.name} can be read only once but --epochs is ${options.epochs}: pass --cache to keep its samples in memory, train one epoch, or read from a file`);
    }
    let train: TrainingData;
    let description: string;
    if (isStreamed) {
      const capacity = options.shuffleBuffer || DEFAULT_SHUFFLE_BUFFER;
      train = streamData(source, capacity, nIn, nOut);
      description = `${source.name}, streamed through a shuffle buffer of ${capacity} samples`;
      if (options.shuffleBuffer === 0) warn(`${source.name} is ${estimate === null ? 'of unknown size' : 'larger than --memory-limit'}: streaming it through a shuffle buffer of ${capacity} samples (set --shuffle-buffer to choose)`);
    } else {
      const all = await readAll(source);
      checkFitsNetwork(all, nIn, nOut, `--data ${options.dataSpec}`);
      train = memoryData(all);
      description = `${source.name}: ${all.count} samples × ${all.inputSize} inputs, in memory`;
    }
    return { train, test, description: `${description}${test ? `; test ${test.count} samples` : ''}`, badRows: () => skipped.rows };
  } catch (error) {
    if (error instanceof DataError || error instanceof RangeError) usage(error.message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') usage((error as Error).message);
    throw error;
  }
}

async function testSet(options: InputOptions, bundled: DataSource | null): Promise<SampleSet | null> {
  if (options.testSpec === null) return bundled ? readAll(bundled) : null;
  // idx:DIR must hold its t10k pair; mnist names its test split; a CSV or NDJSON file is the test set itself.
  const spec = parseSourceSpec(options.testSpec);
  if (spec.kind === 'idx') return loadIdxTestPair(spec.dir);
  const sources = await openSource(options.testSpec);
  return readAll(sources.test ?? sources.train);
}
