/**
 * `nabla eval`: a model's accuracy, mean cost and confusion matrix on a data set, read a block at a time so a data
 * set of any size fits in bounded memory.
 */
import { failData } from '../shared/data/errors.js';
import { targetMismatch, type SampleSet } from '../shared/data/samples.js';
import { openSource, parseSourceSpec, type DataSource } from '../shared/data/stream/source.js';
import { type KernelChoice, selectGemm } from '../shared/kernel/select.js';
import type { CostName } from '../shared/network/cost.js';
import { evaluate, evaluationOf, newTally } from '../shared/network/evaluate.js';
import { inputSize, outputSize, type ParamLayout, shapeOf } from '../shared/network/layout.js';
import { readModelFile } from '../shared/network/model-file.js';
import { createWorkspace } from '../shared/network/workspace.js';
import { usage } from '../shared/usage-error.js';

export type Split = 'train' | 'test';

export interface EvalOptions {
  modelPath: string;
  dataSpec: string;
  /** Which part of the data; undefined: the test split when the spec has one, else its only set. */
  split: Split | undefined;
  /** The cost to report; undefined: the one the model file names (quadratic when it names none). */
  cost: CostName | undefined;
  kernel: KernelChoice;
  skipBadRows: boolean;
  /** Where `csv:-` / `ndjson:-` read from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Told about each skipped bad row (with skipBadRows). */
  onBadRow?: (where: string, problem: string) => void;
}

export interface EvalReport {
  modelPath: string;
  sizes: number[];
  /** What was evaluated, e.g. 'bundled MNIST test' or 'CSV rows.csv'. */
  source: string;
  split: Split;
  kernel: string;
  costName: CostName;
  count: number;
  correct: number;
  accuracy: number;
  /** Mean cost per sample. */
  cost: number;
  classes: number;
  /** confusion[actual * classes + predicted]. */
  confusion: Uint32Array;
  /** Rows skipped as malformed (only with skipBadRows). */
  badRows: number;
}

/** Rows read from the source at a time: a multiple of evaluate()'s 256-row blocks, so the sums are the trainer's, bit for bit. */
export const EVAL_BLOCK_ROWS = 4096;
/** Rows fed forward together, as the trainer's evaluation does. */
const FORWARD_ROWS = 256;

/** Evaluates the model on the chosen split of the data. Model, data and shape problems are usage/data errors (exit 2). */
export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const model = readModelFile(options.modelPath);
  const { layout, params } = model;
  const costName = options.cost ?? model.cost;
  const sources = await openSource(options.dataSpec, { stdin: options.stdin, skipBadRows: options.skipBadRows, onBadRow: options.onBadRow });
  const split = chooseSplit(options.dataSpec, options.split, sources.test !== null);
  const source = (split === 'test' ? sources.test : sources.train) as DataSource;
  checkInputSize(source, layout, options.modelPath);
  const gemm = selectGemm(options.kernel);
  const ws = createWorkspace(layout, FORWARD_ROWS);
  const classes = outputSize(layout);
  const tally = newTally(layout);
  for await (const block of source.blocks(EVAL_BLOCK_ROWS)) {
    checkTargets(block, tally.count, classes, source.name);
    evaluate(gemm, layout, params, block, costName, FORWARD_ROWS, ws, tally);
  }
  if (tally.count === 0) return failData(`${source.name}: no samples to evaluate`);
  const { count, correct, accuracy, cost, confusion } = evaluationOf(tally);
  return {
    modelPath: options.modelPath, sizes: [...layout.sizes], source: source.name, split, kernel: gemm.name, costName,
    count, correct, accuracy, cost, classes, confusion, badRows: source.badRows,
  };
}

/**
 * The split to evaluate: the one asked for, else the test split when the spec has one (mnist, idx:DIR with its t10k
 * pair), else the spec's only set. Asking for a test split that isn't there is a usage error.
 */
export function chooseSplit(spec: string, requested: Split | undefined, hasTestSplit: boolean): Split {
  if (requested === 'test' && !hasTestSplit) {
    const { kind } = parseSourceSpec(spec);
    const isFile = kind === 'csv' || kind === 'ndjson';
    usage(isFile
      ? `--data ${spec} is a single set, it has no test split; leave out --split to evaluate all of it`
      : `--data ${spec} has no test split (no t10k-images/t10k-labels pair); use --split train`);
  }
  return requested ?? (hasTestSplit ? 'test' : 'train');
}

function checkInputSize(source: DataSource, layout: ParamLayout, modelPath: string): void {
  if (source.inputSize !== inputSize(layout)) {
    usage(`${source.name} has ${source.inputSize} inputs per sample, but the model ${modelPath} ${shapeOf(layout.sizes)} takes ${inputSize(layout)}`);
  }
}

/** Every label must be a class of the output layer (every target vector as wide as it); `before` numbers the block's first sample. */
function checkTargets(block: SampleSet, before: number, classes: number, name: string): void {
  const mismatch = targetMismatch(block, classes);
  if (mismatch?.kind === 'label') {
    usage(`${name}: sample ${before + mismatch.index + 1} has label ${mismatch.label}, but the model has ${classes} outputs (classes 0..${classes - 1})`);
  }
  if (mismatch?.kind === 'width') {
    usage(`${name} has target vectors of ${mismatch.targetSize} values, but the model has ${classes} outputs`);
  }
}
