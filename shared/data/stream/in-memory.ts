/** Between sets in memory and sources: a set read as a source, and a source collected into one set. */
import { gatherSamples, type SampleSet } from '../samples.js';
import { checkRowCount, checkSameLayout, DEFAULT_BLOCK_ROWS, layoutOf, SampleBuffer } from './sample-buffer.js';
import type { DataSource } from './source.js';

/** A set already in memory as a replayable source; each block is a compact copy, so consumers may keep or change it. */
export function memorySource(set: SampleSet, name: string): DataSource {
  return {
    name,
    inputSize: set.inputSize,
    count: set.count,
    isReplayable: true,
    badRows: 0,
    async *blocks(blockRows = DEFAULT_BLOCK_ROWS): AsyncGenerator<SampleSet> {
      checkRowCount(blockRows, 'blockRows');
      for (let from = 0; from < set.count; from += blockRows) yield gatherSamples(set, null, from, Math.min(blockRows, set.count - from));
    },
  };
}

/** Rows to start with when the source doesn't know its count: one default block. */
const INITIAL_ROWS = DEFAULT_BLOCK_ROWS;

/**
 * One pass of a source collected into one compact set (the same as the in-memory loaders give). Storage grows by
 * doubling when the count isn't known in advance, so at the end it briefly holds up to twice the samples.
 */
export async function readAll(source: DataSource): Promise<SampleSet> {
  let all: SampleBuffer | null = null;
  for await (const block of source.blocks()) {
    if (!all) all = new SampleBuffer(layoutOf(block), Math.max(source.count ?? INITIAL_ROWS, block.count));
    checkSameLayout(all.layout, block, source.name);
    if (all.count + block.count > all.capacity) all = grown(all, all.count + block.count);
    all.appendRange(block, 0, block.count);
    if (block.targetSize > all.targetSize) all.targetSize = block.targetSize;
  }
  if (!all) return { count: 0, inputSize: source.inputSize, x: new Float64Array(0), xDivisor: 1, labels: new Uint16Array(0), y: null, targetSize: 0 };
  return all.take();
}

/** A buffer of at least twice the capacity (and at least `needed` rows) holding the same rows. */
function grown(buffer: SampleBuffer, needed: number): SampleBuffer {
  const bigger = new SampleBuffer(buffer.layout, Math.max(needed, 2 * buffer.capacity));
  bigger.appendRange(buffer.view(), 0, buffer.count);
  bigger.targetSize = buffer.targetSize;
  return bigger;
}
