import { gatherSamples, type SampleSet } from '../shared/data/samples.js';
import { Rng, type RngState } from '../shared/rng.js';

/** One epoch's mini-batches, from a given position on, in the order training consumes them. */
export interface EpochBatches {
  batches: AsyncIterable<SampleSet>;
  /** The data-order generator's state once this epoch's order is drawn (call it after the last batch). */
  rngAfter(): RngState;
}

/** Where training samples come from, epoch after epoch. */
export interface TrainingData {
  /** Samples per epoch, when known (null for a stream that has not been counted, such as stdin). */
  readonly count: number | null;
  /**
   * The mini-batches of size `batch` of the epoch whose order is drawn from `epochRng`, skipping the first `from`
   * samples of that order (to resume mid-epoch).
   */
  epoch(epochRng: RngState, from: number, batch: number, shuffle: boolean): EpochBatches;
}

/**
 * A dataset held in memory: each epoch is a fresh permutation (Fisher–Yates, as numpy's random.shuffle in the
 * seed) drawn from the generator state at the epoch's start, so a checkpoint mid-epoch recreates it exactly.
 */
export function memoryData(set: SampleSet): TrainingData {
  const order = new Uint32Array(set.count);
  return {
    count: set.count,
    epoch(epochRng, from, batch, shuffle) {
      for (let i = 0; i < order.length; i++) order[i] = i;
      const rng = new Rng(epochRng);
      if (shuffle) rng.shuffle(order);
      async function* batches(): AsyncIterable<SampleSet> {
        for (let start = from; start < set.count; start += batch) yield gatherSamples(set, order, start, Math.min(batch, set.count - start));
      }
      const after = rng.state();
      return { batches: batches(), rngAfter: () => after };
    },
  };
}
