/**
 * A fixed number of sample rows in preallocated typed arrays of one storage layout: what the stream readers fill
 * block by block, what the shuffle buffer keeps its slots in, and what mini-batches are gathered into.
 */
import type { InputArray, SampleSet } from '../samples.js';

type InputArrayConstructor = new (length: number) => InputArray;

/** How a stream's samples are stored; every block of one stream has the same layout. */
export interface SampleLayout {
  readonly inputSize: number;
  readonly xType: InputArrayConstructor;
  readonly xDivisor: number;
  /** Class labels (true) or full target vectors (false). */
  readonly hasLabels: boolean;
  /** For target vectors their width; for labels the smallest target size the stream reports (IDX: 10). */
  readonly targetSize: number;
}

/** The layout of a set's storage. */
export function layoutOf(set: SampleSet): SampleLayout {
  return {
    inputSize: set.inputSize,
    xType: set.x.constructor as InputArrayConstructor,
    xDivisor: set.xDivisor,
    hasLabels: set.labels !== null,
    targetSize: set.targetSize,
  };
}

/** Throws unless `set` is stored like `layout`; `where` names the stream in the message. */
export function checkSameLayout(layout: SampleLayout, set: SampleSet, where: string): void {
  const other = layoutOf(set);
  const differences: string[] = [];
  if (other.inputSize !== layout.inputSize) differences.push(`inputSize ${other.inputSize} vs ${layout.inputSize}`);
  if (other.xType !== layout.xType) differences.push(`x ${other.xType.name} vs ${layout.xType.name}`);
  if (other.xDivisor !== layout.xDivisor) differences.push(`xDivisor ${other.xDivisor} vs ${layout.xDivisor}`);
  if (other.hasLabels !== layout.hasLabels) differences.push(other.hasLabels ? 'labels vs target vectors' : 'target vectors vs labels');
  else if (!other.hasLabels && other.targetSize !== layout.targetSize) differences.push(`targetSize ${other.targetSize} vs ${layout.targetSize}`);
  if (differences.length > 0) throw new RangeError(`${where}: a block is stored differently from the first one (${differences.join(', ')})`);
}

/** Up to `capacity` samples of one layout in arrays allocated once. */
export class SampleBuffer {
  count = 0;
  /** Target size of what went in so far: the largest of the layout's, the blocks' and label + 1. */
  targetSize: number;
  x: InputArray;
  labels: Uint16Array | null;
  y: Float64Array | null;

  constructor(readonly layout: SampleLayout, readonly capacity: number) {
    checkRowCount(capacity, 'a sample buffer\'s capacity');
    this.targetSize = layout.targetSize;
    this.x = new layout.xType(capacity * layout.inputSize);
    this.labels = layout.hasLabels ? new Uint16Array(capacity) : null;
    this.y = layout.hasLabels ? null : new Float64Array(capacity * layout.targetSize);
  }

  get isFull(): boolean {
    return this.count === this.capacity;
  }

  /** Appends sample `sample` of `set` (stored in this layout). */
  append(set: SampleSet, sample: number): void {
    this.put(this.count++, set, sample);
  }

  /** Appends `rows` consecutive samples of `set` from `from` (stored in this layout), copying whole ranges. */
  appendRange(set: SampleSet, from: number, rows: number): void {
    const { inputSize, targetSize } = this.layout;
    const to = this.count;
    this.x.set(set.x.subarray(from * inputSize, (from + rows) * inputSize), to * inputSize);
    if (this.labels) this.labels.set((set.labels as Uint16Array).subarray(from, from + rows), to);
    if (this.y) this.y.set((set.y as Float64Array).subarray(from * targetSize, (from + rows) * targetSize), to * targetSize);
    this.count += rows;
  }

  /** Overwrites row `row` with sample `sample` of `set`, element by element: no views, no allocation. */
  put(row: number, set: SampleSet, sample: number): void {
    const { inputSize, targetSize } = this.layout;
    const x = this.x, sourceX = set.x;
    const dst = row * inputSize, src = sample * inputSize;
    for (let k = 0; k < inputSize; k++) x[dst + k] = sourceX[src + k];
    if (this.labels) this.labels[row] = (set.labels as Uint16Array)[sample];
    else {
      const y = this.y as Float64Array, sourceY = set.y as Float64Array;
      const yDst = row * targetSize, ySrc = sample * targetSize;
      for (let j = 0; j < targetSize; j++) y[yDst + j] = sourceY[ySrc + j];
    }
  }

  /** The rows held so far as a set whose arrays are this buffer's (full capacity; only `count` rows are meaningful). */
  view(): SampleSet {
    const { inputSize, xDivisor } = this.layout;
    return { count: this.count, inputSize, x: this.x, xDivisor, labels: this.labels, y: this.y, targetSize: this.targetSize };
  }

  /** A compact copy of the rows, which the caller owns, and empties the buffer, which keeps its arrays for the next rows. */
  take(): SampleSet {
    const { inputSize, xDivisor, targetSize: yWidth } = this.layout;
    const count = this.count;
    this.count = 0;
    return {
      count,
      inputSize,
      x: this.x.slice(0, count * inputSize),
      xDivisor,
      labels: this.labels ? this.labels.slice(0, count) : null,
      y: this.y ? this.y.slice(0, count * yWidth) : null,
      targetSize: this.targetSize,
    };
  }
}

/** Samples per block when the caller doesn't say: a few MB for MNIST-sized rows. */
export const DEFAULT_BLOCK_ROWS = 4096;

/** Throws unless `rows` is a whole number of at least 1; `what` says which count it is. */
export function checkRowCount(rows: number, what: string): void {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`${what} must be a whole number of at least 1, got ${rows}`);
}
