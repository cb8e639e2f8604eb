/**
 * The seeded shuffle buffer: an approximate shuffle of a stream in bounded memory. The first `capacity` samples fill
 * the slots; each later sample takes a uniformly chosen slot and its occupant is emitted; at the end the slots left are
 * shuffled (Fisher–Yates) and emitted. With capacity ≥ the stream's count this is a full uniform shuffle.
 */
import type { Rng } from '../../rng.js';
import type { SampleSet } from '../samples.js';
import { checkRowCount, checkSameLayout, DEFAULT_BLOCK_ROWS, layoutOf, SampleBuffer } from './sample-buffer.js';

/**
 * Every sample of `blocks` exactly once, in an order that depends only on the samples' order, `capacity` and the
 * state of `rng` (not on how the input is cut into blocks), emitted in blocks of `blockRows`. Holds `capacity`
 * samples plus one output block, in arrays allocated up front.
 */
export async function* shuffleBuffer(
  blocks: AsyncIterable<SampleSet>, capacity: number, rng: Rng, blockRows = DEFAULT_BLOCK_ROWS,
): AsyncGenerator<SampleSet> {
  checkRowCount(capacity, 'the shuffle buffer capacity');
  checkRowCount(blockRows, 'blockRows');
  let slots: SampleBuffer | null = null;
  let out: SampleBuffer | null = null;
  for await (const block of blocks) {
    if (!slots || !out) {
      const layout = layoutOf(block);
      slots = new SampleBuffer(layout, capacity);
      out = new SampleBuffer(layout, blockRows);
    }
    checkSameLayout(slots.layout, block, 'shuffleBuffer');
    if (block.targetSize > out.targetSize) out.targetSize = block.targetSize;
    let next = 0;
    const fill = Math.min(block.count, capacity - slots.count);
    if (fill > 0) {
      slots.appendRange(block, 0, fill);
      next = fill;
    }
    const slotSet = slots.view();
    for (; next < block.count; next++) {
      const slot = rng.nextInt(capacity);
      out.append(slotSet, slot); // the occupant leaves…
      slots.put(slot, block, next); // …and the newcomer takes its place
      if (out.isFull) yield out.take();
    }
  }
  if (!slots || !out) return;
  const order = new Uint32Array(slots.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  rng.shuffle(order);
  const slotSet = slots.view();
  for (let i = 0; i < order.length; i++) {
    out.append(slotSet, order[i]);
    if (out.isFull) yield out.take();
  }
  if (out.count > 0) yield out.take();
}
