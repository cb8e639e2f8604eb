import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { loadIdxDir, loadIdxTestPair, readIdxPair } from './idx.js';
import { idxBytes, tempDir } from './stream/test-support.js';

const COUNT = 5;
const pixels = Uint8Array.from({ length: COUNT * 2 * 3 }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.of(3, 0, 9, 1, 3);
const temp = tempDir('nabla-idx-');
const writeIdx = temp.write;

describe('readIdxPair', () => {
  it('reads plain images and labels back exactly', async () => {
    const images = await writeIdx('plain-images', idxBytes([COUNT, 2, 3], pixels));
    const labelFile = await writeIdx('plain-labels', idxBytes([COUNT], labels));
    const set = await readIdxPair(images, labelFile);
    expect(set.count).toBe(COUNT);
    expect(set.inputSize).toBe(6);
    expect(set.xDivisor).toBe(255);
    expect(set.x.constructor).toBe(Uint8Array);
    expect(set.x).toEqual(pixels);
    expect(set.labels).toEqual(Uint16Array.from(labels));
    expect(set.y).toBeNull();
    expect(set.targetSize).toBe(10);
  });

  it('reads gzipped files, named .gz or not, the same as plain ones', async () => {
    const images = await writeIdx('gz-images.gz', gzipSync(idxBytes([COUNT, 2, 3], pixels)));
    const labelFile = await writeIdx('gz-labels', gzipSync(idxBytes([COUNT], labels)));
    const set = await readIdxPair(images, labelFile);
    expect(set.x).toEqual(pixels);
    expect(set.labels).toEqual(Uint16Array.from(labels));
  });

  it('sets the target size to the largest label + 1 when it exceeds 10', async () => {
    const images = await writeIdx('big-images', idxBytes([2, 1, 1], Uint8Array.of(0, 255)));
    const labelFile = await writeIdx('big-labels', idxBytes([2], Uint8Array.of(14, 2)));
    expect((await readIdxPair(images, labelFile)).targetSize).toBe(15);
  });

  it('rejects a bad magic number, naming the file', async () => {
    const bytes = idxBytes([COUNT, 2, 3], pixels);
    bytes[0] = 0x50;
    const images = await writeIdx('bad-magic', bytes);
    const labelFile = await writeIdx('ok-labels', idxBytes([COUNT], labels));
    const error = await readIdxPair(images, labelFile).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/^IDX .*bad-magic: bad magic number 0x50000803, expected 0x00000803/);
  });

  it('rejects swapped images and labels files', async () => {
    const images = await writeIdx('swap-images', idxBytes([COUNT, 2, 3], pixels));
    const labelFile = await writeIdx('swap-labels', idxBytes([COUNT], labels));
    await expect(readIdxPair(labelFile, images)).rejects.toThrow(/swap-labels: has 1 dimensions, expected 3/);
  });

  it('rejects a truncated file, naming it and the expected size', async () => {
    const images = await writeIdx('short-images', idxBytes([COUNT, 2, 3], pixels).subarray(0, 30));
    const labelFile = await writeIdx('ok-labels2', idxBytes([COUNT], labels));
    await expect(readIdxPair(images, labelFile)).rejects.toThrow(
      /short-images: truncated: 30 bytes, expected 46 for dimensions 5 × 2 × 3/,
    );
  });

  it('rejects a truncated gzip stream', async () => {
    const gz = gzipSync(idxBytes([COUNT, 2, 3], pixels));
    const images = await writeIdx('cut-images.gz', gz.subarray(0, gz.length - 10));
    const labelFile = await writeIdx('ok-labels3', idxBytes([COUNT], labels));
    await expect(readIdxPair(images, labelFile)).rejects.toThrow(/cut-images.gz: is gzipped but cannot be decompressed/);
  });

  it('rejects files of different counts, naming both', async () => {
    const images = await writeIdx('five-images', idxBytes([COUNT, 2, 3], pixels));
    const labelFile = await writeIdx('four-labels', idxBytes([4], labels.subarray(0, 4)));
    const error = await readIdxPair(images, labelFile).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/four-labels: has 4 labels, but .*five-images has 5 images/);
  });

  it('says which file could not be read', async () => {
    await expect(readIdxPair(join(temp.path(), 'nope'), join(temp.path(), 'nope2'))).rejects.toThrow(/nope: cannot read it \(ENOENT\)/);
  });
});

describe('loadIdxDir', () => {
  async function makeDir(name: string, files: Record<string, Buffer>): Promise<string> {
    const path = join(temp.path(), name);
    await mkdir(path);
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(path, file), bytes);
    return path;
  }
  const imagesFile = (): Buffer => idxBytes([COUNT, 2, 3], pixels);
  const labelsFile = (): Buffer => idxBytes([COUNT], labels);

  it('loads the train pair and the gzipped t10k pair', async () => {
    const path = await makeDir('full', {
      'train-images-idx3-ubyte': imagesFile(),
      'train-labels-idx1-ubyte': labelsFile(),
      't10k-images-idx3-ubyte.gz': gzipSync(imagesFile()),
      't10k-labels-idx1-ubyte.gz': gzipSync(labelsFile()),
    });
    const { train, test } = await loadIdxDir(path);
    expect(train.x).toEqual(pixels);
    expect(test?.labels).toEqual(Uint16Array.from(labels));
    expect((await loadIdxTestPair(path)).count).toBe(COUNT);
  });

  it('gives a null test set when there is no t10k pair', async () => {
    const path = await makeDir('train-only', {
      'train-images-idx3-ubyte': imagesFile(),
      'train-labels-idx1-ubyte': labelsFile(),
    });
    expect((await loadIdxDir(path)).test).toBeNull();
    await expect(loadIdxTestPair(path)).rejects.toThrow(/missing t10k-images-idx3-ubyte; looked for .*t10k-images-idx3-ubyte and .*\.gz/);
  });

  it('says which file it looked for when one of a pair is missing', async () => {
    const path = await makeDir('no-labels', { 'train-images-idx3-ubyte.gz': gzipSync(imagesFile()) });
    await expect(loadIdxDir(path)).rejects.toThrow(
      `IDX directory ${path}: missing train-labels-idx1-ubyte; looked for ${join(path, 'train-labels-idx1-ubyte')} and ${join(path, 'train-labels-idx1-ubyte')}.gz`,
    );
  });

  it('says which directory it looked for when it does not exist', async () => {
    const error = await loadIdxDir(join(temp.path(), 'absent')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `IDX directory not found: ${join(temp.path(), 'absent')} (looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in it)`,
    );
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const hasFashion = existsSync(FASHION);
if (!hasFashion) console.warn(`skipping the Fashion-MNIST test: ${FASHION} is absent`);

describe.skipIf(!hasFashion)(`the real Fashion-MNIST in ${FASHION}`, () => {
  it('loads 60000 train and 10000 test images of 784 pixels with labels 0..9', async () => {
    const { train, test } = await loadIdxDir(FASHION);
    expect(train.count).toBe(60000);
    expect(train.inputSize).toBe(784);
    expect(train.x.length).toBe(60000 * 784);
    expect(test?.count).toBe(10000);
    expect(test?.inputSize).toBe(784);
    expect(Math.max(...(train.labels as Uint16Array))).toBe(9);
    expect(train.targetSize).toBe(10);
  });
});
