import { addExtension, Packr, RESET_BUFFER_MODE } from 'msgpackr';
import type { ParamLayout } from '../network/layout.js';
import { chunkOffset } from '../reduction/tree.js';
import { fail, ProtocolError } from './errors.js';
import type { ToCoordinator, ToMonitor, ToWorker } from './messages.js';
import { parseToCoordinator, parseToWorker, type WireJob } from './validate.js';
import { decodeShmRef, encodeShmRef, ShmRef, type ShmReader, type ShmWriter } from './shm.js';

/**
 * One configured codec for both sides: typed arrays travel as typed arrays and arrive aligned, as copies or, when
 * large, as views of the received frame (see readTypedArray).
 */
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

export const encode = (message: ToWorker | ToCoordinator | ToMonitor): Buffer => packr.pack(message);

/**
 * Like `encode`, with the large float arrays moved to a shared-memory lane when there is one and it takes them (see
 * shm.ts; when it fails, `lane.failure` says why and the arrays travel inline).
 */
export const encodeVia = (message: ToWorker | ToCoordinator, lane: ShmWriter | null): Buffer =>
  packr.pack(lane?.externalize(message) ?? message);

/**
 * Like `encode`, but into the encoder's reused buffer instead of a fresh one: the bytes stay valid only until the next
 * encode in this process. For a sender that copies them before returning, such as a ws client without compression
 * (it masks every frame into a buffer of its own). Saves allocating a frame-sized buffer per result.
 */
export const encodeTransient = (message: ToCoordinator): Buffer => packr.pack(message, RESET_BUFFER_MODE);

/**
 * msgpackr's typed-array extension ('t'): a type code, an index into this list, then the array's bytes. Decoding is
 * replaced (the encoding and the bytes on the wire stay msgpackr's): msgpackr copies every array to align it; here
 * an array of at least VIEW_MIN_BYTES whose bytes already sit aligned in the frame is returned as a view of them.
 * That is safe because each received frame is a buffer of its own (ws hands over fresh socket reads or a fresh
 * concatenation, and never reuses them), and it saves allocating and copying gradient- and parameter-sized arrays
 * on every step (their allocations drive the garbage collector's full collections). Small arrays are still copied, so
 * a few bytes do not keep a large socket buffer alive. Any other type code decodes as msgpackr does.
 */
const TYPED_ARRAY_EXTENSION = 0x74;
const TYPED_ARRAYS = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
  BigInt64Array, BigUint64Array,
] as const;
const ARRAY_BUFFER_CODE = 16;
const DATA_VIEW_CODE = 17;
const VIEW_MIN_BYTES = 4096;

function readTypedArray(data: Uint8Array): unknown {
  const code = data[0];
  const Type = TYPED_ARRAYS[code];
  const byteOffset = data.byteOffset + 1, byteLength = data.byteLength - 1;
  if (Type !== undefined && byteLength >= VIEW_MIN_BYTES && byteOffset % Type.BYTES_PER_ELEMENT === 0 && byteLength % Type.BYTES_PER_ELEMENT === 0) {
    return new Type(data.buffer as ArrayBuffer, byteOffset, byteLength / Type.BYTES_PER_ELEMENT);
  }
  const copy = Uint8Array.prototype.slice.call(data, 1).buffer as ArrayBuffer; // a Buffer's own slice() would be a view
  if (Type !== undefined) return new Type(copy); // throws RangeError on a length that is not whole elements
  if (code === ARRAY_BUFFER_CODE) return copy;
  if (code === DATA_VIEW_CODE) return new DataView(copy);
  throw new Error(`unknown typed array code ${code}`);
}

addExtension({ type: TYPED_ARRAY_EXTENSION, unpack: readTypedArray });

/**
 * A reference to an array in the sender's shared-memory lane (shm.ts): an extension whose 32 bytes name slot, type,
 * sequence, offset and length. It decodes to the array itself, read from the lane of the frame being decoded. A frame
 * that holds one on a link without a lane is malformed, and so is one of a type that may not carry them: only
 * `params` (to a worker, which reuses its read buffers once they are in its replica) and `gradients` (to the
 * coordinator) do.
 */
const SHM_REF_EXTENSION = 0x62;
/** The lane the frame being decoded may refer to (decoding is synchronous: set only around one unpack). */
let decodingLane: ShmReader | null = null;
/** References read while decoding the current frame. */
let referencesRead = 0;

addExtension({
  Class: ShmRef,
  type: SHM_REF_EXTENSION,
  pack: (ref: ShmRef) => encodeShmRef(ref),
  unpack: (bytes: Uint8Array) => {
    if (!decodingLane) return fail('malformed', 'a shared-memory reference arrived on a link without a shared-memory lane');
    referencesRead++;
    return decodingLane.read(decodeShmRef(bytes));
  },
});

/** Decodes a frame whose shared-memory references (if any) point into `lane` and which may hold them if of `referenceType`. */
function unpack(bytes: Uint8Array, lane: ShmReader | null, referenceType: 'params' | 'gradients'): unknown {
  decodingLane = lane;
  referencesRead = 0;
  try {
    const raw = packr.unpack(bytes);
    const type = (raw as { type?: unknown } | null)?.type;
    if (referencesRead > 0 && type !== referenceType) {
      fail('malformed', `shared-memory references are allowed only in ${referenceType} frames, not in "${String(type).slice(0, 40)}"`);
    }
    return raw;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    return fail('malformed', `undecodable msgpack frame of ${bytes.length} bytes (${(error as Error).message})`);
  } finally {
    decodingLane = null;
  }
}

/**
 * Decodes and validates a frame arriving at the coordinator of a job; any defect is a ProtocolError. `lane` is the
 * sender's shared-memory lane, when the link has one.
 */
export function decodeToCoordinator(bytes: Uint8Array, job: WireJob, lane: ShmReader | null = null): ToCoordinator {
  return guard(() => parseToCoordinator(unpack(bytes, lane, 'gradients'), job));
}

/** Rows carried by a shard: the samples of chunks [start, end). */
export const shardRows = (m: number, chunks: number, start: number, end: number): number =>
  chunkOffset(m, chunks, end) - chunkOffset(m, chunks, start);

/** Decodes and validates a frame arriving at a worker (job null before the welcome; lane as for the coordinator). */
export function decodeToWorker(bytes: Uint8Array, job: WireJob | null, lane: ShmReader | null = null): ToWorker {
  return guard(() => parseToWorker(unpack(bytes, lane, 'params'), job, shardRows));
}

/** Whatever goes wrong while reading a frame is reported as a ProtocolError, never as a TypeError. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    return fail('malformed', `unreadable frame (${(error as Error).message})`);
  }
}

/** The largest frame a peer may send for this layout: a welcome or result of every parameter, plus headroom. */
export function maxPayloadBytes(layout: ParamLayout, maxBlocks = 64): number {
  const params = (layout.weightCount + layout.biasCount) * 8;
  return params * maxBlocks + (1 << 20);
}
