/**
 * The IDX header (magic, element type, dimensions) checked from the first bytes of a file, and the file's length
 * checked against it, with the messages of the in-memory reader (../idx.ts), which could be built on these.
 */
import { failData } from '../errors.js';

const UBYTE = 0x08;

/** A checked header of a uint8 IDX file. */
export interface IdxHeader {
  dims: number[];
  headerBytes: number;
  /** Bytes of payload after the header: the product of the dimensions. */
  valueCount: number;
}

/** The header size of a file with `dims` dimensions: the 4-byte magic and 4 bytes per dimension. */
export function idxHeaderBytes(dims: number): number {
  return 4 + 4 * dims;
}

/**
 * Checks the header at the start of `head`, which holds the file's first idxHeaderBytes(expectedDims) bytes, or
 * all of it when it is shorter: magic, element type, dimensions, a non-zero count and no empty dimension.
 */
export function parseIdxHeader(head: Uint8Array, path: string, expectedDims: number): IdxHeader {
  if (head.length < 4) failData(`IDX ${path}: only ${head.length} bytes, too short for the 4-byte magic number`);
  const magic = readUint32BE(head, 0);
  const expectedMagic = (UBYTE << 8) | expectedDims;
  if (head[0] !== 0 || head[1] !== 0) {
    failData(`IDX ${path}: bad magic number 0x${hex8(magic)}, expected 0x${hex8(expectedMagic)}; is this an IDX file?`);
  }
  if (head[2] !== UBYTE) failData(`IDX ${path}: element type 0x${head[2].toString(16)}, only 0x08 (unsigned byte) is supported`);
  if (head[3] !== expectedDims) {
    failData(`IDX ${path}: has ${head[3]} dimensions, expected ${expectedDims} (magic 0x${hex8(expectedMagic)}); are the images and labels files swapped?`);
  }
  const headerBytes = idxHeaderBytes(expectedDims);
  if (head.length < headerBytes) failData(`IDX ${path}: truncated header, ${head.length} bytes, expected at least ${headerBytes}`);
  const dims: number[] = [];
  let valueCount = 1;
  for (let d = 0; d < expectedDims; d++) {
    dims.push(readUint32BE(head, 4 + 4 * d));
    valueCount *= dims[d];
  }
  if (dims[0] === 0) failData(`IDX ${path}: holds no samples (count 0)`);
  if (valueCount === 0) failData(`IDX ${path}: has an empty dimension (${dims.join(' × ')})`);
  return { dims, headerBytes, valueCount };
}

/** Checks that a file of `totalBytes` bytes holds exactly the header and its payload. */
export function checkIdxLength(header: IdxHeader, totalBytes: number, path: string): void {
  const expectedBytes = header.headerBytes + header.valueCount;
  if (totalBytes !== expectedBytes) {
    const problem = totalBytes < expectedBytes ? 'truncated' : 'has trailing bytes';
    failData(`IDX ${path}: ${problem}: ${totalBytes} bytes, expected ${expectedBytes} for dimensions ${header.dims.join(' × ')}`);
  }
}

function readUint32BE(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
