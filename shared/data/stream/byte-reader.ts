/**
 * A file read as a stream of bytes, gunzipped on the fly when it starts with the gzip magic, and read in exact
 * amounts into the caller's arrays; read and decompression failures become DataErrors naming the file.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError, failData } from '../errors.js';

/** Sequential reads from one file; `bytesRead` counts the (decompressed) bytes handed out so far. */
export class ByteReader {
  bytesRead = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private offset = 0;
  private isDone = false;
  private readonly chunks: AsyncIterator<Uint8Array>;

  private constructor(private readonly stream: Readable, readonly path: string, readonly isGzip: boolean) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  /** Opens `path`, through a streaming gunzip when its first two bytes are 1f 8b. */
  static async open(path: string): Promise<ByteReader> {
    const isGzip = await startsWithGzipMagic(path);
    const file = createReadStream(path);
    if (!isGzip) return new ByteReader(file, path, false);
    const gunzip = createGunzip();
    pipeline(file, gunzip, () => {}); // errors reach the reader through gunzip, which pipeline destroys with them
    return new ByteReader(gunzip, path, true);
  }

  /** Copies the next `length` bytes into `target` at `offset`; returns how many it copied, fewer only at the end. */
  async readInto(target: Uint8Array, offset: number, length: number): Promise<number> {
    let copied = 0;
    while (copied < length) {
      if (this.offset === this.chunk.length && !(await this.nextChunk())) break;
      const n = Math.min(length - copied, this.chunk.length - this.offset);
      target.set(this.chunk.subarray(this.offset, this.offset + n), offset + copied);
      this.offset += n;
      copied += n;
    }
    this.bytesRead += copied;
    return copied;
  }

  /** Reads to the end, discarding the bytes; returns how many there were. */
  async skipToEnd(): Promise<number> {
    let skipped = this.chunk.length - this.offset;
    this.offset = this.chunk.length;
    while (await this.nextChunk()) {
      skipped += this.chunk.length;
      this.offset = this.chunk.length;
    }
    this.bytesRead += skipped;
    return skipped;
  }

  /** Stops reading and closes the file (and the gunzip stream). */
  close(): void {
    this.stream.destroy();
  }

  private async nextChunk(): Promise<boolean> {
    if (this.isDone) return false;
    let next: IteratorResult<Uint8Array>;
    try {
      next = await this.chunks.next();
    } catch (err) {
      this.isDone = true;
      this.failRead(err as NodeJS.ErrnoException);
    }
    if (next.done) {
      this.isDone = true;
      return false;
    }
    this.chunk = next.value;
    this.offset = 0;
    return true;
  }

  private failRead(err: NodeJS.ErrnoException): never {
    if (err instanceof DataError) throw err;
    if (this.isGzip && err.code?.startsWith('Z_')) {
      failData(`IDX ${this.path}: is gzipped but cannot be decompressed (${err.message}); the download may be incomplete`);
    }
    failData(`IDX ${this.path}: cannot read it (${err.code ?? err.message})`);
  }
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const head = new Uint8Array(2);
  try {
    const file = await open(path, 'r');
    try {
      const { bytesRead } = await file.read(head, 0, 2, 0);
      return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      await file.close();
    }
  } catch (err) {
    failData(`IDX ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
