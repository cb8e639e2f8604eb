import { fc, test } from '@fast-check/vitest';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { createLayout } from '../network/layout.js';
import { decodeToCoordinator, decodeToWorker, encode } from './codec.js';
import { ProtocolError } from './errors.js';
import { PROTOCOL_VERSION, type Gradients, type Shard } from './messages.js';

const layout = createLayout([4, 3, 2]);
const raw = new Packr({ useRecords: false, moreTypes: true });

function gradients(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'gradients', v: PROTOCOL_VERSION, step: 3, shardId: 7, version: 3, computeMs: 1.5,
    blocks: [{ level: 0, index: 0, cost: 0.25, nablaW: new Float64Array(18).fill(0.5), nablaB: new Float64Array(5).fill(-1) }],
    ...overrides,
  };
}

function refusal(bytes: Uint8Array): ProtocolError {
  try {
    decodeToCoordinator(bytes, layout);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('the frame was accepted');
}

describe('codec', () => {
  it('round-trips every message with typed arrays kept as typed arrays', () => {
    const message = gradients() as Gradients;
    const decoded = decodeToCoordinator(encode(message), layout) as Gradients;
    expect(decoded).toEqual(message);
    expect(decoded.blocks[0].nablaW).toBeInstanceOf(Float64Array);

    const shard: Shard = {
      type: 'shard', v: PROTOCOL_VERSION, step: 1, shardId: 2, version: 1, batchSize: 10, chunks: 5, chunkStart: 1, chunkEnd: 3,
      x: new Uint8Array(16).fill(255), xDivisor: 255, labels: new Uint16Array([0, 1, 1, 0]), y: null,
    };
    const back = decodeToWorker(encode(shard), layout) as Shard;
    expect(back).toEqual(shard);
    expect(back.x).toBeInstanceOf(Uint8Array);
  });

  it('refuses a wrong protocol version, naming both versions', () => {
    const error = refusal(raw.pack({ type: 'hello', v: 99, role: 'worker', name: 'x', kernel: 'js' }));
    expect(error.code).toBe('version-mismatch');
    expect(error.message).toContain('v99');
    expect(error.message).toContain(`v${PROTOCOL_VERSION}`);
  });

  it('rejects gradients of the wrong length', () => {
    const error = refusal(raw.pack(gradients({ blocks: [{ level: 0, index: 0, cost: 0, nablaW: new Float64Array(17), nablaB: new Float64Array(5) }] })));
    expect(error.code).toBe('bad-length');
    expect(error.message).toBe('nablaW has 17 values, expected 18');
  });

  it('rejects NaN and infinite gradients', () => {
    const nablaW = new Float64Array(18);
    nablaW[4] = Number.NaN;
    const error = refusal(raw.pack(gradients({ blocks: [{ level: 0, index: 0, cost: 0, nablaW, nablaB: new Float64Array(5) }] })));
    expect(error.code).toBe('not-finite');
    expect(error.message).toBe('nablaW[4] is NaN');
  });

  it('rejects frames that are not messages', () => {
    expect(refusal(Buffer.from('hello')).code).toBe('malformed');
    expect(refusal(raw.pack([1, 2, 3])).code).toBe('malformed');
    expect(refusal(raw.pack({ v: 1 })).code).toBe('malformed');
    expect(refusal(raw.pack({ type: 'welcome', v: PROTOCOL_VERSION })).code).toBe('unexpected');
  });

  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 2000 })('random bytes are refused with a ProtocolError, never a TypeError', (bytes) => {
    try {
      decodeToCoordinator(bytes, layout);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
    }
  });

  test.prop([fc.integer({ min: 0, max: 400 })])('every truncation of a valid frame is refused', (cut) => {
    const bytes = encode(gradients() as Gradients);
    const truncated = bytes.subarray(0, Math.min(cut, bytes.length - 1));
    expect(() => decodeToCoordinator(truncated, layout)).toThrow(ProtocolError);
  });
});
