/** Blocks of any sizes regrouped into the mini-batches of SGD. */
import type { SampleSet } from '../samples.js';
import { checkRowCount, checkSameLayout, layoutOf, SampleBuffer } from './sample-buffer.js';

/** Consecutive mini-batches of exactly `batch` samples (the last may be shorter), each a compact copy. */
export async function* miniBatches(blocks: AsyncIterable<SampleSet>, batch: number): AsyncGenerator<SampleSet> {
  checkRowCount(batch, 'the mini-batch size');
  let out: SampleBuffer | null = null;
  for await (const block of blocks) {
    out ??= new SampleBuffer(layoutOf(block), batch);
    checkSameLayout(out.layout, block, 'miniBatches');
    if (block.targetSize > out.targetSize) out.targetSize = block.targetSize;
    for (let from = 0; from < block.count;) {
      const rows = Math.min(block.count - from, batch - out.count);
      out.appendRange(block, from, rows);
      from += rows;
      if (out.isFull) yield out.take();
    }
  }
  if (out && out.count > 0) yield out.take();
}
