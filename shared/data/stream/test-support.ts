/** Helpers for the data tests: a temporary directory, collecting blocks, small IDX files, CSV text made lazily. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import type { SampleSet } from '../samples.js';
import { layoutOf, SampleBuffer } from './sample-buffer.js';

/** A temporary directory for one test file, removed after its tests; `write` puts a file there and returns its path. */
export function tempDir(prefix: string): { path(): string; write(name: string, content: string | Uint8Array): Promise<string> } {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    path: () => dir,
    async write(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
  };
}

/** Every block of one pass, in order. */
export async function collect(blocks: AsyncIterable<SampleSet>): Promise<SampleSet[]> {
  const all: SampleSet[] = [];
  for await (const block of blocks) all.push(block);
  return all;
}

/** The blocks joined into one set (the last block's targetSize, as the stream reports it). */
export function concat(blocks: readonly SampleSet[]): SampleSet {
  const total = blocks.reduce((sum, block) => sum + block.count, 0);
  const all = new SampleBuffer(layoutOf(blocks[0]), Math.max(total, 1));
  for (const block of blocks) all.appendRange(block, 0, block.count);
  all.targetSize = blocks[blocks.length - 1].targetSize;
  return all.take();
}

/** An IDX file of unsigned bytes with the given dimensions. */
export function idxBytes(dims: number[], values: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, values]);
}

/** Input k of CSV row i: one of 1000 values with up to three decimals, so that text and number agree exactly. */
export function csvValue(row: number, k: number): number {
  return ((row * 31 + k * 17) % 1000) / 8 - 50;
}

/** A stream of `rows` CSV rows `label,x1,…,x<inputs>` generated as it is read, never held whole in memory. */
export function generatedCsv(rows: number, inputs: number, rowsPerChunk = 256): Readable {
  const texts = Array.from({ length: 1000 }, (_, v) => String(v / 8 - 50));
  let next = 0;
  return new Readable({
    read() {
      if (next >= rows) {
        this.push(null);
        return;
      }
      const end = Math.min(rows, next + rowsPerChunk);
      let chunk = '';
      for (; next < end; next++) {
        let line = String(next % 10);
        for (let k = 0; k < inputs; k++) line += ',' + texts[(next * 31 + k * 17) % 1000];
        chunk += line + '\n';
      }
      this.push(chunk);
    },
  });
}

/** Whether two sets hold the same samples in the same storage; compares bytes, fast for big arrays. */
export function isSameSet(a: SampleSet, b: SampleSet): boolean {
  const sameScalars = a.count === b.count && a.inputSize === b.inputSize && a.xDivisor === b.xDivisor && a.targetSize === b.targetSize;
  return sameScalars && sameArray(a.x, b.x) && sameArray(a.labels, b.labels) && sameArray(a.y, b.y);
}

function sameArray(a: ArrayBufferView | null, b: ArrayBufferView | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
  return Buffer.compare(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
