/** The `--data SPEC` / `--test SPEC` strings: parsing them and loading the samples they name. */
import { readCsv, STDIN_NAME } from './csv.js';
import { failData } from './errors.js';
import { loadIdxDir } from './idx.js';
import { loadBundledMnist } from './mnist.js';
import type { SampleSet } from './samples.js';

/** A parsed data spec; a csv path of '-' means stdin. */
export type DataSpec = { kind: 'mnist' } | { kind: 'idx'; dir: string } | { kind: 'csv'; path: string };

/** Where stdin comes from for `csv:-` (tests pass a Readable; default process.stdin). */
export interface LoadOptions {
  stdin?: NodeJS.ReadableStream;
}

/** A training set, its test set when the spec carries one, and a line saying what was loaded. */
export interface LoadedDataset {
  train: SampleSet;
  test: SampleSet | null;
  description: string;
}

const ACCEPTED_FORMS =
  'mnist (the bundled digits), idx:DIR (MNIST-style IDX files in DIR), csv:FILE (rows label,x1,…,xn), csv:- (CSV on stdin)';

/** Parses `mnist`, `idx:DIR` or `csv:FILE` / `csv:-`; anything else is a DataError listing the accepted forms. */
export function parseDataSpec(text: string): DataSpec {
  if (text === 'mnist') return { kind: 'mnist' };
  if (text.startsWith('idx:') && text.length > 4) return { kind: 'idx', dir: text.slice(4) };
  if (text.startsWith('csv:') && text.length > 4) return { kind: 'csv', path: text.slice(4) };
  return failData(`unknown data spec "${text}"; use one of: ${ACCEPTED_FORMS}`);
}

/** Loads the data a `--data SPEC` names: mnist → bundled train + test, idx:DIR → train + t10k, csv → train only. */
export async function loadDataset(spec: string, opts: LoadOptions = {}): Promise<LoadedDataset> {
  const parsed = parseDataSpec(spec);
  switch (parsed.kind) {
    case 'mnist': {
      const { train, test } = loadBundledMnist();
      return { train, test, description: `bundled MNIST digits: ${describe(train)} train, ${describe(test)} test` };
    }
    case 'idx': {
      const { train, test } = await loadIdxDir(parsed.dir);
      const testPart = test ? `${describe(test)} test` : 'no t10k test pair';
      return { train, test, description: `IDX ${parsed.dir}: ${describe(train)} train, ${testPart}` };
    }
    case 'csv': {
      const train = await readCsv(parsed.path, opts.stdin);
      return { train, test: null, description: `CSV ${csvName(parsed.path)}: ${describe(train)}, ${train.targetSize} classes` };
    }
    default:
      return assertNever(parsed);
  }
}

function describe(set: SampleSet): string {
  return `${set.count} samples × ${set.inputSize} inputs`;
}

function csvName(path: string): string {
  return path === '-' ? STDIN_NAME : path;
}

function assertNever(value: never): never {
  throw new Error(`unhandled data spec ${JSON.stringify(value)}`);
}
