import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { loadIdxDir, readIdxPair } from '../idx.js';
import { gatherSamples, type SampleSet } from '../samples.js';
import { loadDataset } from '../spec.js';
import { openIdxPairSource } from './idx-source.js';
import { readAll } from './in-memory.js';
import { openSource } from './source.js';
import { collect, concat, idxBytes, isSameSet, tempDir } from './test-support.js';

const COUNT = 5;
const pixels = Uint8Array.from({ length: COUNT * 2 * 3 }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.of(3, 0, 9, 1, 3);
const imagesFile = (): Buffer => idxBytes([COUNT, 2, 3], pixels);
const labelsFile = (): Buffer => idxBytes([COUNT], labels);
const temp = tempDir('nabla-idx-stream-');
const writeIdx = temp.write;

async function makeDir(name: string, files: Record<string, Buffer>): Promise<string> {
  const path = join(temp.path(), name);
  await mkdir(path);
  for (const [file, bytes] of Object.entries(files)) await writeFile(join(path, file), bytes);
  return path;
}

/** The error of reading a pair whole with the in-memory reader and with the stream reader. */
async function errorsOf(imagesPath: string, labelsPath: string): Promise<{ inMemory: Error; streamed: Error }> {
  const inMemory = await readIdxPair(imagesPath, labelsPath).catch((e: unknown) => e);
  const streamed = await openIdxPairSource(imagesPath, labelsPath).then(readAll).catch((e: unknown) => e);
  expect(inMemory).toBeInstanceOf(DataError);
  expect(streamed).toBeInstanceOf(DataError);
  return { inMemory: inMemory as Error, streamed: streamed as Error };
}

describe('the IDX stream reader', () => {
  it('gives the same samples as loadDataset for plain train and gzipped t10k pairs, in blocks of any size', async () => {
    const path = await makeDir('full', {
      'train-images-idx3-ubyte': imagesFile(),
      'train-labels-idx1-ubyte': labelsFile(),
      't10k-images-idx3-ubyte.gz': gzipSync(imagesFile()),
      't10k-labels-idx1-ubyte.gz': gzipSync(labelsFile()),
    });
    const expected = await loadDataset(`idx:${path}`);
    const { train, test } = await openSource(`idx:${path}`);
    expect(train.name).toBe(`IDX ${join(path, 'train-images-idx3-ubyte')}`);
    expect(test?.name).toBe(`IDX ${join(path, 't10k-images-idx3-ubyte.gz')}`);
    expect([train.count, train.inputSize, train.isReplayable, train.badRows]).toEqual([5, 6, true, 0]);
    for (const blockRows of [1, 2, 5, 100]) {
      const trainBlocks = await collect(train.blocks(blockRows));
      expect(trainBlocks.length).toBe(Math.ceil(COUNT / blockRows));
      expect(concat(trainBlocks)).toEqual(expected.train);
      expect(concat(await collect((test as NonNullable<typeof test>).blocks(blockRows)))).toEqual(expected.test);
    }
  });

  it('gives a null test source without a t10k pair', async () => {
    const path = await makeDir('train-only', { 'train-images-idx3-ubyte': imagesFile(), 'train-labels-idx1-ubyte.gz': gzipSync(labelsFile()) });
    expect((await openSource(`idx:${path}`)).test).toBeNull();
  });

  it('reports the target size as the in-memory reader does: at least 10, else the largest label so far + 1', async () => {
    const images = await writeIdx('big-images', idxBytes([3, 1, 1], Uint8Array.of(0, 255, 7)));
    const labelFile = await writeIdx('big-labels', idxBytes([3], Uint8Array.of(2, 14, 3)));
    const source = await openIdxPairSource(images, labelFile);
    expect((await collect(source.blocks(1))).map((b) => b.targetSize)).toEqual([10, 15, 15]);
    expect((await readAll(source)).targetSize).toBe((await readIdxPair(images, labelFile)).targetSize);
  });

  it('stops reading when the consumer stops early, and can start again', async () => {
    const source = await openIdxPairSource(await writeIdx('early-images.gz', gzipSync(imagesFile())), await writeIdx('early-labels', labelsFile()));
    for await (const block of source.blocks(2)) {
      expect(block.labels).toEqual(Uint16Array.of(3, 0));
      break;
    }
    expect((await readAll(source)).x).toEqual(pixels);
  });

  describe('fails with the message of the in-memory reader', () => {
    const fine = (): Promise<string> => writeIdx('fine-labels', labelsFile());
    it.each<[string, () => Buffer]>([
      ['a bad magic number', () => Object.assign(imagesFile(), { 0: 0x50 })],
      ['a labels file given as images', () => labelsFile()],
      ['another element type', () => Object.assign(imagesFile(), { 2: 0x0d })],
      ['a file too short for the magic', () => imagesFile().subarray(0, 3)],
      ['a truncated header', () => imagesFile().subarray(0, 10)],
      ['a truncated payload', () => imagesFile().subarray(0, 30)],
      ['trailing bytes', () => Buffer.concat([imagesFile(), Buffer.from([1, 2])])],
      ['a count of 0', () => idxBytes([0, 2, 3], new Uint8Array(0))],
      ['an empty dimension', () => idxBytes([COUNT, 0, 3], new Uint8Array(0))],
      ['a gzipped truncated payload', () => gzipSync(imagesFile().subarray(0, 30))],
      ['a gzip stream cut short', () => { const gz = gzipSync(imagesFile()); return gz.subarray(0, gz.length - 10); }],
      ['a corrupted gzip checksum', () => { const gz = gzipSync(imagesFile()); gz[gz.length - 6] ^= 0xff; return gz; }],
    ])('in the images file: %s', async (_, bytes) => {
      const { inMemory, streamed } = await errorsOf(await writeIdx('bad-images', bytes()), await fine());
      expect(streamed.message).toBe(inMemory.message);
    });

    it('for a truncated labels file', async () => {
      const { inMemory, streamed } = await errorsOf(await writeIdx('ok-images', imagesFile()), await writeIdx('short-labels', labelsFile().subarray(0, 11)));
      expect(streamed.message).toBe(inMemory.message);
    });

    it('for files of different counts, naming both', async () => {
      const { inMemory, streamed } = await errorsOf(
        await writeIdx('five-images', imagesFile()),
        await writeIdx('four-labels', idxBytes([4], labels.subarray(0, 4))),
      );
      expect(streamed.message).toBe(inMemory.message);
      expect(streamed.message).toMatch(/four-labels: has 4 labels, but .*five-images has 5 images/);
    });

    it('for files that are not there', async () => {
      const { inMemory, streamed } = await errorsOf(join(temp.path(), 'nope'), join(temp.path(), 'nope2'));
      expect(streamed.message).toBe(inMemory.message);
    });

    it.each<[string, () => Promise<string>]>([
      ['a missing directory', async () => join(temp.path(), 'absent')],
      ['a file instead of a directory', () => writeIdx('plain-file', imagesFile())],
      ['a directory without a labels file', () => makeDir('no-labels', { 'train-images-idx3-ubyte.gz': gzipSync(imagesFile()) })],
      ['a t10k pair without images', () => makeDir('half-test', { 'train-images-idx3-ubyte': imagesFile(), 'train-labels-idx1-ubyte': labelsFile(), 't10k-labels-idx1-ubyte': labelsFile() })],
    ])('for %s', async (_, makePath) => {
      const path = await makePath();
      const inMemory = await loadIdxDir(path).catch((e: unknown) => e);
      const streamed = await openSource(`idx:${path}`).catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(DataError);
      expect((streamed as Error).message).toBe((inMemory as Error).message);
    });
  });

  it('checks the headers when opened, before any pass', async () => {
    await expect(openIdxPairSource(await writeIdx('swap-images', imagesFile()), await writeIdx('swap-labels', labelsFile())).then(() => 'opened'))
      .resolves.toBe('opened');
    await expect(openIdxPairSource(join(temp.path(), 'swap-labels'), join(temp.path(), 'swap-images'))).rejects.toThrow(/swap-labels: has 1 dimensions, expected 3/);
  });

  it('refuses a file whose dimensions changed since it was opened', async () => {
    const images = await writeIdx('changing-images', imagesFile());
    const source = await openIdxPairSource(images, await writeIdx('changing-labels', labelsFile()));
    await writeIdx('changing-images', idxBytes([COUNT, 3, 2], pixels));
    await expect(readAll(source)).rejects.toThrow(`IDX ${images}: changed since it was opened: its dimensions are now 5 × 3 × 2, they were 5 × 2 × 3`);
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const hasFashion = existsSync(FASHION);
if (!hasFashion) console.warn(`skipping the Fashion-MNIST stream test: ${FASHION} is absent`);

describe.skipIf(!hasFashion)(`the real Fashion-MNIST in ${FASHION}`, () => {
  it('streams the same first samples as loadDataset, and the whole test pair', async () => {
    const expected = await loadDataset(`idx:${FASHION}`);
    const { train, test } = await openSource(`idx:${FASHION}`);
    expect([train.count, train.inputSize, test?.count]).toEqual([60000, 784, 10000]);
    const prefix: SampleSet[] = [];
    for await (const block of train.blocks(4096)) {
      prefix.push(block);
      if (prefix.length === 3) break;
    }
    const streamed = concat(prefix);
    expect(streamed.count).toBe(3 * 4096);
    expect(isSameSet(streamed, gatherSamples(expected.train, null, 0, streamed.count))).toBe(true);
    expect(isSameSet(await readAll(test as NonNullable<typeof test>), expected.test as SampleSet)).toBe(true);
  });
});
