import { Packr } from 'msgpackr';
import type { ParamLayout } from '../network/layout.js';
import { chunkOffset } from '../reduction/tree.js';
import { fail, ProtocolError } from './errors.js';
import type { ToCoordinator, ToMonitor, ToWorker } from './messages.js';
import { parseToCoordinator, parseToWorker } from './validate.js';

/** One configured codec for both sides: typed arrays travel as typed arrays and arrive as aligned copies. */
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

export const encode = (message: ToWorker | ToCoordinator | ToMonitor): Buffer => packr.pack(message);

function unpack(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    return fail('malformed', `undecodable msgpack frame of ${bytes.length} bytes (${(error as Error).message})`);
  }
}

/** Decodes and validates a frame arriving at the coordinator; any defect is a ProtocolError. */
export function decodeToCoordinator(bytes: Uint8Array, layout: ParamLayout): ToCoordinator {
  return guard(() => parseToCoordinator(unpack(bytes), layout));
}

/** Rows carried by a shard: the samples of chunks [start, end). */
export const shardRows = (m: number, chunks: number, start: number, end: number): number =>
  chunkOffset(m, chunks, end) - chunkOffset(m, chunks, start);

/** Decodes and validates a frame arriving at a worker (layout null before the welcome). */
export function decodeToWorker(bytes: Uint8Array, layout: ParamLayout | null): ToWorker {
  return guard(() => parseToWorker(unpack(bytes), layout, shardRows));
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
