/**
 * Finding the IDX files of a directory: `train-…` and `t10k-…` images/labels pairs, plain or `.gz`, with the
 * messages of the in-memory loader (../idx.ts), which could be built on these.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { failData } from '../errors.js';

/** Which pair of a directory: the training pair or the test pair. */
export type IdxPrefix = 'train' | 't10k';

/** Paths of an images file and its labels file. */
export type IdxPair = [imagesPath: string, labelsPath: string];

/** Fails unless `dir` is a directory, saying what it should hold. */
export async function checkIsIdxDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info) failData(`IDX directory not found: ${dir} (looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in it)`);
  if (!info.isDirectory()) failData(`IDX ${dir}: is a file, expected a directory holding train-images-idx3-ubyte[.gz] and the other IDX files`);
}

/** The images and labels paths of a pair that must exist. */
export async function requireIdxPair(dir: string, prefix: IdxPrefix): Promise<IdxPair> {
  return (await findIdxPair(dir, prefix)) ?? failMissing(dir, `${prefix}-images-idx3-ubyte`);
}

/** `<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`; null when both are absent, an error when one is. */
export async function findIdxPair(dir: string, prefix: IdxPrefix): Promise<IdxPair | null> {
  const imagesName = `${prefix}-images-idx3-ubyte`;
  const labelsName = `${prefix}-labels-idx1-ubyte`;
  const imagesPath = await findFile(dir, imagesName);
  const labelsPath = await findFile(dir, labelsName);
  if (!imagesPath && !labelsPath) return null;
  if (!imagesPath) failMissing(dir, imagesName);
  if (!labelsPath) failMissing(dir, labelsName);
  return [imagesPath, labelsPath];
}

function failMissing(dir: string, name: string): never {
  failData(`IDX directory ${dir}: missing ${name}; looked for ${join(dir, name)} and ${join(dir, name)}.gz`);
}

/** The plain file if it exists, else the `.gz` one, else null. */
async function findFile(dir: string, name: string): Promise<string | null> {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    const info = await stat(candidate).catch(() => null);
    if (info?.isFile()) return candidate;
  }
  return null;
}
