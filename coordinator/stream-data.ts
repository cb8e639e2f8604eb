import { failData } from '../shared/data/errors.js';
import { checkFitsNetwork, gatherSamples, type SampleSet } from '../shared/data/samples.js';
import { miniBatches } from '../shared/data/stream/batches.js';
import { shuffleBuffer } from '../shared/data/stream/shuffle-buffer.js';
import type { DataSource } from '../shared/data/stream/source.js';
import { Rng } from '../shared/rng.js';
import type { TrainingData } from './epoch-data.js';

/**
 * Training data read from its source afresh every epoch, in bounded memory: the samples flow through a seeded
 * shuffle buffer of `capacity` samples (each sample exactly once per epoch) into mini-batches. A buffer that holds
 * the whole dataset gives exactly the in-memory shuffle's order.
 */
export function streamData(source: DataSource, capacity: number, inputSize: number, outputSize: number): TrainingData {
  let passes = 0;
  return {
    get count() {
      return source.count;
    },
    epoch(epochRng, from, batch, shuffle) {
      if (passes++ > 0 && !source.isReplayable) {
        failData(`${source.name} can be read only once: train for one epoch, pass --cache to keep its samples in memory, or read from a file`);
      }
      const rng = new Rng(epochRng);
      // Checked in the source's order, so an error names the sample by its place in the file.
      const checked = fitting(source.blocks(), source.name, inputSize, outputSize);
      const ordered = shuffle ? shuffleBuffer(checked, capacity, rng) : checked;
      return { batches: miniBatches(skip(ordered, from), batch), rngAfter: () => rng.state() };
    },
  };
}

/** Drops the first `count` samples (resuming mid-epoch replays the epoch's order up to there). */
async function* skip(blocks: AsyncIterable<SampleSet>, count: number): AsyncIterable<SampleSet> {
  let toSkip = count;
  for await (const block of blocks) {
    if (toSkip >= block.count) {
      toSkip -= block.count;
      continue;
    }
    yield toSkip > 0 ? gatherSamples(block, null, toSkip, block.count - toSkip) : block;
    toSkip = 0;
  }
}

/** Checks every block against the network as it streams by (a whole stream cannot be checked up front). */
async function* fitting(blocks: AsyncIterable<SampleSet>, name: string, inputSize: number, outputSize: number): AsyncIterable<SampleSet> {
  let seen = 0;
  for await (const block of blocks) {
    try {
      checkFitsNetwork(block, inputSize, outputSize, name, seen);
    } catch (error) {
      failData((error as Error).message);
    }
    seen += block.count;
    yield block;
  }
}
