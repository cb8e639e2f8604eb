/**
 * An IDX images file and its labels file, plain or gzipped, as a DataSource: both headers are checked when it is
 * opened (so the count is known before reading), then each pass streams fixed-size records in blocks.
 */
import { failData } from '../errors.js';
import type { SampleSet } from '../samples.js';
import { ByteReader } from './byte-reader.js';
import { checkIdxLength, idxHeaderBytes, parseIdxHeader, type IdxHeader } from './idx-header.js';
import { checkRowCount, DEFAULT_BLOCK_ROWS } from './sample-buffer.js';
import type { DataSource } from './source.js';

const IMAGE_DIMS = 3;
const LABEL_DIMS = 1;
/** Pixels are uint8, seen by the network as x / 255. */
const X_DIVISOR = 255;
/** As the in-memory reader: at least 10 classes, more when a label is larger. */
const MIN_CLASSES = 10;

/** Opens an images/labels pair, checking both headers and that they hold the same number of samples. */
export async function openIdxPairSource(imagesPath: string, labelsPath: string): Promise<DataSource> {
  const pair = await openPair(imagesPath, labelsPath);
  pair.close();
  return new IdxSource(imagesPath, labelsPath, pair.imagesHeader);
}

class IdxSource implements DataSource {
  readonly name: string;
  readonly inputSize: number;
  readonly count: number;
  readonly isReplayable = true;
  readonly badRows = 0;

  constructor(private readonly imagesPath: string, private readonly labelsPath: string, private readonly header: IdxHeader) {
    const [count, rows, cols] = header.dims;
    this.name = `IDX ${imagesPath}`;
    this.count = count;
    this.inputSize = rows * cols;
  }

  async *blocks(blockRows = DEFAULT_BLOCK_ROWS): AsyncGenerator<SampleSet> {
    checkRowCount(blockRows, 'blockRows');
    const pair = await openPair(this.imagesPath, this.labelsPath);
    try {
      this.checkUnchanged(pair.imagesHeader);
      const { images, labels } = pair;
      const labelBytes = new Uint8Array(Math.min(blockRows, this.count));
      let maxLabel = 0;
      for (let done = 0; done < this.count;) {
        const rows = Math.min(blockRows, this.count - done);
        const x = new Uint8Array(rows * this.inputSize);
        if ((await images.readInto(x, 0, x.length)) < x.length) checkIdxLength(pair.imagesHeader, images.bytesRead, this.imagesPath);
        if ((await labels.readInto(labelBytes, 0, rows)) < rows) checkIdxLength(pair.labelsHeader, labels.bytesRead, this.labelsPath);
        const classes = new Uint16Array(rows);
        for (let i = 0; i < rows; i++) {
          classes[i] = labelBytes[i];
          if (labelBytes[i] > maxLabel) maxLabel = labelBytes[i];
        }
        done += rows;
        // Check both files to their ends (trailing bytes, gzip checksum) before handing over the last block.
        if (done === this.count) await pair.checkEnds();
        const targetSize = Math.max(MIN_CLASSES, maxLabel + 1);
        yield { count: rows, inputSize: this.inputSize, x, xDivisor: X_DIVISOR, labels: classes, y: null, targetSize };
      }
    } finally {
      pair.close();
    }
  }

  private checkUnchanged(header: IdxHeader): void {
    const now = header.dims.join(' × '), then = this.header.dims.join(' × ');
    if (now !== then) failData(`IDX ${this.imagesPath}: changed since it was opened: its dimensions are now ${now}, they were ${then}`);
  }
}

/** Both files of a pair, open, with their headers read and checked. */
interface OpenPair {
  images: ByteReader;
  labels: ByteReader;
  imagesHeader: IdxHeader;
  labelsHeader: IdxHeader;
  /** Reads both files to their ends and checks their lengths against their headers. */
  checkEnds(): Promise<void>;
  close(): void;
}

/** Opens the images file and reads its header, then the labels file; the images file is checked first. */
async function openPair(imagesPath: string, labelsPath: string): Promise<OpenPair> {
  const readers: ByteReader[] = [];
  const close = (): void => readers.forEach((reader) => reader.close());
  try {
    readers.push(await ByteReader.open(imagesPath));
    const imagesHeader = await readHeader(readers[0], IMAGE_DIMS);
    readers.push(await ByteReader.open(labelsPath));
    const labelsHeader = await readHeader(readers[1], LABEL_DIMS);
    const count = imagesHeader.dims[0];
    if (labelsHeader.dims[0] !== count) {
      failData(`IDX ${labelsPath}: has ${labelsHeader.dims[0]} labels, but ${imagesPath} has ${count} images; use the labels file that belongs to those images`);
    }
    const [images, labels] = readers;
    const checkEnds = async (): Promise<void> => {
      await images.skipToEnd();
      checkIdxLength(imagesHeader, images.bytesRead, imagesPath);
      await labels.skipToEnd();
      checkIdxLength(labelsHeader, labels.bytesRead, labelsPath);
    };
    return { images, labels, imagesHeader, labelsHeader, checkEnds, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Reads the header of an IDX file with `dims` dimensions (all of the file when it is shorter) and checks it. */
async function readHeader(reader: ByteReader, dims: number): Promise<IdxHeader> {
  const head = new Uint8Array(idxHeaderBytes(dims));
  const length = await reader.readInto(head, 0, head.length);
  return parseIdxHeader(head.subarray(0, length), reader.path, dims);
}
