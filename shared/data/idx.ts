/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzipped: an images file (uint8, count × rows × cols) and a
 * labels file (uint8, count) become one SampleSet with pixels kept as uint8 and scaled by /255 where they are used.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { failData } from './errors.js';
import type { SampleSet } from './samples.js';

const gunzipAsync = promisify(gunzip);
const UBYTE = 0x08;
const MIN_CLASSES = 10;

/** One parsed IDX file: its dimensions and its uint8 payload. */
interface IdxArray {
  dims: number[];
  values: Uint8Array;
}

/** Reads an images file and a labels file of the same count into one set; errors name the file and the problem. */
export async function readIdxPair(imagesPath: string, labelsPath: string): Promise<SampleSet> {
  // One after the other, so that when both are wrong the error is always about the images file.
  const images = await readIdx(imagesPath, 3);
  const labels = await readIdx(labelsPath, 1);
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    failData(`IDX ${labelsPath}: has ${labels.dims[0]} labels, but ${imagesPath} has ${count} images; use the labels file that belongs to those images`);
  }
  let maxLabel = 0;
  for (let i = 0; i < count; i++) if (labels.values[i] > maxLabel) maxLabel = labels.values[i];
  return {
    count,
    inputSize: rows * cols,
    x: images.values,
    xDivisor: 255,
    labels: Uint16Array.from(labels.values),
    y: null,
    targetSize: Math.max(MIN_CLASSES, maxLabel + 1),
  };
}

/** The train pair of a directory and, when present, its t10k test pair (null when both test files are absent). */
export async function loadIdxDir(dir: string): Promise<{ train: SampleSet; test: SampleSet | null }> {
  await checkIsDirectory(dir);
  const train = await readIdxPair(...(await requirePair(dir, 'train')));
  const testPair = await findPair(dir, 't10k');
  return { train, test: testPair ? await readIdxPair(...testPair) : null };
}

/** Only the t10k test pair of a directory, which must be there. */
export async function loadIdxTestPair(dir: string): Promise<SampleSet> {
  await checkIsDirectory(dir);
  return readIdxPair(...(await requirePair(dir, 't10k')));
}

type Prefix = 'train' | 't10k';

/** The images and labels paths of a pair that must exist. */
async function requirePair(dir: string, prefix: Prefix): Promise<[string, string]> {
  return (await findPair(dir, prefix)) ?? failMissing(dir, `${prefix}-images-idx3-ubyte`);
}

/** `<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`; null when both are absent, an error when one is. */
async function findPair(dir: string, prefix: Prefix): Promise<[string, string] | null> {
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

async function checkIsDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info) failData(`IDX directory not found: ${dir} (looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in it)`);
  if (!info.isDirectory()) failData(`IDX ${dir}: is a file, expected a directory holding train-images-idx3-ubyte[.gz] and the other IDX files`);
}

/** Reads one IDX file of uint8 values with `expectedDims` dimensions, gunzipping it first when it is gzipped. */
async function readIdx(path: string, expectedDims: number): Promise<IdxArray> {
  const bytes = await readMaybeGzipped(path);
  if (bytes.length < 4) failData(`IDX ${path}: only ${bytes.length} bytes, too short for the 4-byte magic number`);
  const magic = bytes.readUInt32BE(0);
  const expectedMagic = (UBYTE << 8) | expectedDims;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    failData(`IDX ${path}: bad magic number 0x${hex8(magic)}, expected 0x${hex8(expectedMagic)}; is this an IDX file?`);
  }
  if (bytes[2] !== UBYTE) failData(`IDX ${path}: element type 0x${bytes[2].toString(16)}, only 0x08 (unsigned byte) is supported`);
  if (bytes[3] !== expectedDims) {
    failData(`IDX ${path}: has ${bytes[3]} dimensions, expected ${expectedDims} (magic 0x${hex8(expectedMagic)}); are the images and labels files swapped?`);
  }
  const headerBytes = 4 + 4 * expectedDims;
  if (bytes.length < headerBytes) failData(`IDX ${path}: truncated header, ${bytes.length} bytes, expected at least ${headerBytes}`);
  const dims: number[] = [];
  let valueCount = 1;
  for (let d = 0; d < expectedDims; d++) {
    dims.push(bytes.readUInt32BE(4 + 4 * d));
    valueCount *= dims[d];
  }
  if (dims[0] === 0) failData(`IDX ${path}: holds no samples (count 0)`);
  if (valueCount === 0) failData(`IDX ${path}: has an empty dimension (${dims.join(' × ')})`);
  const expectedBytes = headerBytes + valueCount;
  if (bytes.length !== expectedBytes) {
    const problem = bytes.length < expectedBytes ? 'truncated' : 'has trailing bytes';
    failData(`IDX ${path}: ${problem}: ${bytes.length} bytes, expected ${expectedBytes} for dimensions ${dims.join(' × ')}`);
  }
  // A plain Uint8Array copy, not a Buffer view: it owns its memory and copies of it stay plain Uint8Arrays.
  return { dims, values: new Uint8Array(bytes.subarray(headerBytes)) };
}

/** The file's bytes, gunzipped when they start with the gzip magic 1f 8b. */
async function readMaybeGzipped(path: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    failData(`IDX ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const isGzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (!isGzip) return raw;
  try {
    return await gunzipAsync(raw);
  } catch (err) {
    failData(`IDX ${path}: is gzipped but cannot be decompressed (${(err as Error).message}); the download may be incomplete`);
  }
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
