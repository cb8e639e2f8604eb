/**
 * IDX files (the MNIST / Fashion-MNIST format) held in memory, plain or gzipped: an images file (uint8,
 * count × rows × cols) and a labels file (uint8, count) become one SampleSet with pixels kept as uint8 and scaled by
 * /255 where they are used. The parsing and its checks live in stream/ (shared with streaming).
 */
import { readAll } from './stream/in-memory.js';
import { checkIsIdxDirectory, findIdxPair, requireIdxPair } from './stream/idx-files.js';
import { openIdxPairSource } from './stream/idx-source.js';
import type { SampleSet } from './samples.js';

/** Reads an images file and a labels file of the same count into one set; errors name the file and the problem. */
export async function readIdxPair(imagesPath: string, labelsPath: string): Promise<SampleSet> {
  return readAll(await openIdxPairSource(imagesPath, labelsPath));
}

/** The train pair of a directory and, when present, its t10k test pair (null when both test files are absent). */
export async function loadIdxDir(dir: string): Promise<{ train: SampleSet; test: SampleSet | null }> {
  await checkIsIdxDirectory(dir);
  const train = await readIdxPair(...(await requireIdxPair(dir, 'train')));
  const testPair = await findIdxPair(dir, 't10k');
  return { train, test: testPair ? await readIdxPair(...testPair) : null };
}

/** Only the t10k test pair of a directory, which must be there. */
export async function loadIdxTestPair(dir: string): Promise<SampleSet> {
  await checkIsIdxDirectory(dir);
  return readIdxPair(...(await requireIdxPair(dir, 't10k')));
}
