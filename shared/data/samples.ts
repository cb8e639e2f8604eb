import type { Floats } from '../kernel/dtype.js';
import { elementwise } from '../kernel/elementwise.js';
/**
 * A block of samples as it is stored and as it travels: inputs keep their stored type (uint8 pixels stay uint8)
 * and are divided by `xDivisor` only where they enter the maths; targets are class labels (one-hot of the output
 * size) or full target vectors.
 */
export type InputArray = Float64Array | Float32Array | Uint8Array | Uint16Array;

export interface SampleSet {
  readonly count: number;
  readonly inputSize: number;
  /** Row-major [count × inputSize]; the value the network sees is x / xDivisor. */
  readonly x: InputArray;
  readonly xDivisor: number;
  /** Class labels, one per sample; the target is the one-hot vector of the output size. */
  readonly labels: Uint16Array | null;
  /** Or full target vectors, row-major [count × targetSize]. Exactly one of labels and y is set. */
  readonly y: Float64Array | null;
  readonly targetSize: number;
}

/** How a set's targets fail to fit `classes` outputs: a label beyond them (the first), or target vectors of another width. */
export type TargetMismatch = { kind: 'label'; index: number; label: number } | { kind: 'width'; targetSize: number };

export function targetMismatch(set: SampleSet, classes: number): TargetMismatch | null {
  const { labels } = set;
  if (!labels) return set.targetSize === classes ? null : { kind: 'width', targetSize: set.targetSize };
  for (let i = 0; i < set.count; i++) if (labels[i] >= classes) return { kind: 'label', index: i, label: labels[i] };
  return null;
}

/** Checks that a set fits a network with these input and output sizes; the message says what to change. */
export function checkFitsNetwork(set: SampleSet, inputSize: number, outputSize: number, source: string, firstSample = 0): void {
  if (set.inputSize !== inputSize) {
    throw new RangeError(
      `${source} has ${set.inputSize} inputs per sample but --sizes starts with ${inputSize}; ` +
        `use --sizes ${set.inputSize},…,${outputSize}`,
    );
  }
  const mismatch = targetMismatch(set, outputSize);
  if (mismatch?.kind === 'label') {
    throw new RangeError(`${source}: sample ${firstSample + mismatch.index + 1} has label ${mismatch.label}, but the output layer has only ${outputSize} neurons (labels 0..${outputSize - 1})`);
  }
  if (mismatch?.kind === 'width') {
    throw new RangeError(`${source} has targets of size ${mismatch.targetSize}, but the output layer has ${outputSize} neurons`);
  }
}

/**
 * Writes `rows` samples, taken at `indices[from…]` (or from…from+rows when indices is null), into network form:
 * inputs divided by xDivisor into `xOut`, one-hot or vector targets into `yOut` (width `outputSize`).
 */
export function loadRows(
  set: SampleSet, indices: Uint32Array | null, from: number, rows: number,
  xOut: Floats, yOut: Floats, outputSize: number,
): void {
  loadInputs(set, indices, from, rows, xOut);
  const { labels, y } = set;
  for (let r = 0; r < rows; r++) {
    const sample = indices ? indices[from + r] : from + r;
    const yRow = r * outputSize;
    if (labels) {
      yOut.fill(0, yRow, yRow + outputSize);
      yOut[yRow + labels[sample]] = 1;
    } else {
      for (let j = 0; j < outputSize; j++) yOut[yRow + j] = (y as Float64Array)[sample * outputSize + j];
    }
  }
}

/** loadRows's inputs: x / xDivisor into `xOut`, row after row. */
function loadInputs(set: SampleSet, indices: Uint32Array | null, from: number, rows: number, xOut: Floats): void {
  const { inputSize, x, xDivisor } = set;
  const rowStart = (r: number): number => (indices ? indices[from + r] : from + r) * inputSize;
  if ((x instanceof Uint8Array || x instanceof Uint16Array) && xDivisor !== 1) {
    // Integers take few values: divide each once (the same quotients the division per value gives) and look them up;
    // consecutive samples are one block of inputs, so one call for all of them.
    const quotients = integerQuotients(x, xDivisor);
    if (!indices) elementwise.lookupInts(xOut, 0, x, from * inputSize, rows * inputSize, quotients);
    else for (let r = 0; r < rows; r++) elementwise.lookupInts(xOut, r * inputSize, x, rowStart(r), inputSize, quotients);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const src = rowStart(r);
    const dst = r * inputSize;
    if (xDivisor === 1) for (let k = 0; k < inputSize; k++) xOut[dst + k] = x[src + k];
    else for (let k = 0; k < inputSize; k++) xOut[dst + k] = x[src + k] / xDivisor;
  }
}

/**
 * v / divisor for every value v of the integer type, computed once per type and divisor (the last divisor of each
 * type is kept; a table is allocated on first use, by the number of values the type holds).
 */
const quotientTables = new Map<number, { divisor: number; table: Float64Array }>();
function integerQuotients(x: Uint8Array | Uint16Array, divisor: number): Float64Array {
  const values = x instanceof Uint8Array ? 256 : 65536;
  let cached = quotientTables.get(values);
  if (!cached) quotientTables.set(values, (cached = { divisor: NaN, table: new Float64Array(values) }));
  if (cached.divisor !== divisor) {
    for (let v = 0; v < cached.table.length; v++) cached.table[v] = v / divisor;
    cached.divisor = divisor;
  }
  return cached.table;
}

/** The class a sample belongs to: its label, or the argmax of its target vector. */
export function classOf(set: SampleSet, sample: number): number {
  if (set.labels) return set.labels[sample];
  const y = set.y as Float64Array;
  const offset = sample * set.targetSize;
  let best = 0;
  for (let j = 1; j < set.targetSize; j++) if (y[offset + j] > y[offset + best]) best = j;
  return best;
}

/** A compact copy of the samples at indices[from…from+count), same storage types: what a shard carries. */
export function gatherSamples(set: SampleSet, indices: Uint32Array | null, from: number, count: number): SampleSet {
  const { inputSize, targetSize } = set;
  const x = new (set.x.constructor as new (n: number) => InputArray)(count * inputSize);
  const labels = set.labels ? new Uint16Array(count) : null;
  const y = set.y ? new Float64Array(count * targetSize) : null;
  for (let r = 0; r < count; r++) {
    const sample = indices ? indices[from + r] : from + r;
    x.set(set.x.subarray(sample * inputSize, (sample + 1) * inputSize), r * inputSize);
    if (labels) labels[r] = (set.labels as Uint16Array)[sample];
    if (y) y.set((set.y as Float64Array).subarray(sample * targetSize, (sample + 1) * targetSize), r * targetSize);
  }
  return { count, inputSize, x, xDivisor: set.xDivisor, labels, y, targetSize };
}
