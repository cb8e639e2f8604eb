import { fc, test } from '@fast-check/vitest';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { createLayout } from '../network/layout.js';
import { decodeToCoordinator, decodeToWorker, encode } from './codec.js';
import { ProtocolError } from './errors.js';
import { PROTOCOL_VERSION, type Gradients, type Shard } from './messages.js';
import type { Dtype } from '../kernel/dtype.js';
import { refusalOf } from '../../test/support/refusal.js';

const layout = createLayout([4, 3, 2]);
const raw = new Packr({ useRecords: false, moreTypes: true });

function gradients(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'gradients', v: PROTOCOL_VERSION, step: 3, shardId: 7, version: 3, computeMs: 1.5,
    blocks: [{ level: 0, index: 0, cost: 0.25, nablaW: new Float64Array(18).fill(0.5), nablaB: new Float64Array(5).fill(-1) }],
    ...overrides,
  };
}

/** How a coordinator of a `dtype` job refuses a frame. */
const refusal = (bytes: Uint8Array, dtype: Dtype = 'float64'): ProtocolError => refusalOf(() => decodeToCoordinator(bytes, { layout, dtype }));

describe('codec', () => {
  it('round-trips every message with typed arrays kept as typed arrays', () => {
    const message = gradients() as Gradients;
    const decoded = decodeToCoordinator(encode(message), { layout, dtype: 'float64' }) as Gradients;
    expect(decoded).toEqual(message);
    expect(decoded.blocks[0].nablaW).toBeInstanceOf(Float64Array);

    const shard: Shard = {
      type: 'shard', v: PROTOCOL_VERSION, step: 1, shardId: 2, version: 1, batchSize: 10, chunks: 5, chunkStart: 1, chunkEnd: 3,
      x: new Uint8Array(16).fill(255), xDivisor: 255, labels: new Uint16Array([0, 1, 1, 0]), y: null,
    };
    const back = decodeToWorker(encode(shard), { layout, dtype: 'float64' }) as Shard;
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

  describe('--dtype float32', () => {
    const welcome = (overrides: Record<string, unknown>) => raw.pack({
      type: 'welcome', v: PROTOCOL_VERSION, workerId: 'w1', pingIntervalMs: 1000, sizes: [4, 3, 2], cost: 'quadratic', version: 0,
      weights: new Float64Array(18), biases: new Float64Array(5), ...overrides,
    });
    const workerRefusal = (bytes: Uint8Array): ProtocolError => refusalOf(() => decodeToWorker(bytes, null));

    it('round-trips float32 gradients for a float32 job, and refuses float64 ones with the reason', () => {
      const f32 = gradients({ blocks: [{ level: 0, index: 0, cost: 0.25, nablaW: new Float32Array(18).fill(0.5), nablaB: new Float32Array(5).fill(-1) }] });
      const decoded = decodeToCoordinator(encode(f32 as Gradients), { layout, dtype: 'float32' }) as Gradients;
      expect(decoded.blocks[0].nablaW).toBeInstanceOf(Float32Array);
      expect(Array.from(decoded.blocks[0].nablaB)).toEqual([-1, -1, -1, -1, -1]);
      const thrown = refusal(encode(gradients() as Gradients), 'float32');
      expect(thrown.code).toBe('bad-field');
      expect(thrown.message).toBe('nablaW must be a Float32Array (the job computes in float32), got Float64Array(18)');
      expect(refusal(encode(f32 as Gradients)).message).toBe('nablaW must be a Float64Array (the job computes in float64), got Float32Array(18)');
    });

    it('a welcome without dtype means float64 (what earlier coordinators send); one with dtype carries arrays of it', () => {
      expect(decodeToWorker(welcome({}), null)).toMatchObject({ type: 'welcome', dtype: 'float64' });
      const f32 = decodeToWorker(welcome({ dtype: 'float32', weights: new Float32Array(18), biases: new Float32Array(5) }), null);
      expect(f32).toMatchObject({ type: 'welcome', dtype: 'float32' });
      expect((f32 as { weights: unknown }).weights).toBeInstanceOf(Float32Array);
      expect(workerRefusal(welcome({ dtype: 'float16' })).message).toBe('dtype must be one of float64, float32, got string');
      expect(workerRefusal(welcome({ dtype: 'float32' })).message).toBe('weights must be a Float32Array (the job computes in float32), got Float64Array(18)');
    });

    it('parameter updates are read in the welcome\'s type', () => {
      const params = (weights: Float32Array | Float64Array) => raw.pack({ type: 'params', v: PROTOCOL_VERSION, version: 4, weights, biases: new Float32Array(5) });
      expect(decodeToWorker(params(new Float32Array(18)), { layout, dtype: 'float32' })).toMatchObject({ type: 'params', version: 4 });
      expect(() => decodeToWorker(params(new Float64Array(18)), { layout, dtype: 'float32' })).toThrow('weights must be a Float32Array');
    });

    it('parameters may also come as float64 (the master, for a worker that applies updates itself), both arrays alike', () => {
      const master = raw.pack({ type: 'params', v: PROTOCOL_VERSION, version: 4, weights: new Float64Array(18).fill(0.1), biases: new Float64Array(5) });
      const decoded = decodeToWorker(master, { layout, dtype: 'float32' }) as { weights: unknown };
      expect(decoded.weights).toBeInstanceOf(Float64Array);
      const nan = raw.pack({ type: 'params', v: PROTOCOL_VERSION, version: 4, weights: new Float64Array(18).fill(Number.NaN), biases: new Float64Array(5) });
      expect(refusalOf(() => decodeToWorker(nan, { layout, dtype: 'float32' })).message).toBe('weights[0] is NaN');
      const short = raw.pack({ type: 'params', v: PROTOCOL_VERSION, version: 4, weights: new Float64Array(17), biases: new Float64Array(5) });
      expect(refusalOf(() => decodeToWorker(short, { layout, dtype: 'float32' })).message).toBe('weights has 17 values, expected 18');
    });
  });

  describe('workers that apply updates themselves', () => {
    const hello = (overrides: Record<string, unknown>) => raw.pack({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'w', kernel: 'js', ...overrides });
    const shard = (overrides: Record<string, unknown>) => raw.pack({
      type: 'shard', v: PROTOCOL_VERSION, step: 6, shardId: 9, version: 6, batchSize: 10, chunks: 5, chunkStart: 0, chunkEnd: 5,
      x: null, xDivisor: null, labels: null, y: null, update: { eta: 3, lambda: 0, n: 1, version: 7 }, ...overrides,
    });
    const job = { layout, dtype: 'float64' } as const;

    it('a hello may say so (optional; absent means no)', () => {
      expect(decodeToCoordinator(hello({ appliesUpdates: true }), job)).toMatchObject({ type: 'hello', appliesUpdates: true });
      expect(decodeToCoordinator(hello({}), job)).not.toHaveProperty('appliesUpdates');
      expect(refusal(hello({ appliesUpdates: 'yes' })).message).toBe('appliesUpdates must be true or false, got string');
    });

    it("a hello may carry its kernel's rounding fingerprint: 16 lower-case hex digits", () => {
      expect(decodeToCoordinator(hello({ rounding: '0123456789abcdef' }), job)).toMatchObject({ type: 'hello', rounding: '0123456789abcdef' });
      expect(decodeToCoordinator(hello({}), job)).not.toHaveProperty('rounding');
      expect(refusal(hello({ rounding: '0123456789ABCDEF' })).message).toBe('rounding must be 16 lower-case hex digits, got "0123456789ABCDEF"');
      expect(refusal(hello({ rounding: 7 })).message).toBe('rounding must be 16 lower-case hex digits, got number');
    });

    // Samples sent ahead of step 6 may bring its update too (a worker may apply it before the shard comes).
    const samples = (overrides: Record<string, unknown>) => {
      const { chunkStart = 0, chunkEnd = 5 } = overrides as { chunkStart?: number; chunkEnd?: number };
      const rows = 2 * ((chunkEnd as number) - (chunkStart as number));
      return raw.pack({
        type: 'samples', v: PROTOCOL_VERSION, step: 6, shardId: 9, batchSize: 10, chunks: 5, chunkStart: 0, chunkEnd: 5,
        x: new Float64Array(rows * 4), xDivisor: 1, labels: new Uint16Array(rows), y: null, update: { eta: 3, lambda: 0, n: 1, version: 7 }, ...overrides,
      });
    };

    it.each([['shard', shard], ['samples', samples]])("%s of the whole mini-batch may carry the step's update, for a later version", (_, message) => {
      expect(decodeToWorker(message({}), job)).toMatchObject({ update: { eta: 3, lambda: 0, n: 1, version: 7 } });
      expect(decodeToWorker(message({ update: undefined }), job)).not.toHaveProperty('update');
      const refused = (overrides: Record<string, unknown>): string => refusalOf(() => decodeToWorker(message(overrides), job)).message;
      expect(refused({ chunkStart: 1 })).toBe('update came with chunks 1..5 of 5; only a shard of the whole mini-batch can apply its update');
      expect(refused({ chunkEnd: 4 })).toBe('update came with chunks 0..4 of 5; only a shard of the whole mini-batch can apply its update');
      expect(refused({ update: [3, 0, 1, 7] })).toBe('update must be a map, got array(4)');
      expect(refused({ update: { eta: 0, lambda: 0, n: 1, version: 7 } })).toBe('update needs eta > 0 and lambda ≥ 0, got eta 0, lambda 0');
      expect(refused({ update: { eta: 3, lambda: -1, n: 1, version: 7 } })).toBe('update needs eta > 0 and lambda ≥ 0, got eta 3, lambda -1');
      expect(refused({ update: { eta: Number.NaN, lambda: 0, n: 1, version: 7 } })).toBe('eta is NaN');
      expect(refused({ update: { eta: 3, lambda: 0, n: 0, version: 7 } })).toBe('n = 0 is outside 1..9007199254740991');
      expect(refused({ update: { eta: 3, lambda: 0, n: 1, version: 6 } })).toBe('version = 6 is outside 7..9007199254740991');
    });

    it("a result may carry its parameters' fingerprint: any float64 (an overflowed sum is infinite or NaN)", () => {
      for (const paramsSum of [12.5, -3e-300, Number.POSITIVE_INFINITY, Number.NaN]) {
        expect((decodeToCoordinator(encode(gradients({ paramsSum }) as Gradients), job) as Gradients).paramsSum).toBe(paramsSum);
      }
      expect(decodeToCoordinator(encode(gradients() as Gradients), job)).not.toHaveProperty('paramsSum');
      expect(refusal(encode(gradients({ paramsSum: '12.5' }) as Gradients)).message).toBe('paramsSum must be a number, got string');
    });
  });

  it('rejects frames that are not messages', () => {
    expect(refusal(Buffer.from('hello')).code).toBe('malformed');
    expect(refusal(raw.pack([1, 2, 3])).code).toBe('malformed');
    expect(refusal(raw.pack({ v: 1 })).code).toBe('malformed');
    expect(refusal(raw.pack({ type: 'welcome', v: PROTOCOL_VERSION })).code).toBe('unexpected');
  });

  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 2000 })('random bytes are refused with a ProtocolError, never a TypeError', (bytes) => {
    try {
      decodeToCoordinator(bytes, { layout, dtype: 'float64' });
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
    }
  });

  test.prop([fc.integer({ min: 0, max: 400 })])('every truncation of a valid frame is refused', (cut) => {
    const bytes = encode(gradients() as Gradients);
    const truncated = bytes.subarray(0, Math.min(cut, bytes.length - 1));
    expect(() => decodeToCoordinator(truncated, { layout, dtype: 'float64' })).toThrow(ProtocolError);
  });
});
