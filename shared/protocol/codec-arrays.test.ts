import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { createLayout } from '../network/layout.js';
import { decodeToCoordinator, encode, encodeTransient } from './codec.js';
import { ProtocolError } from './errors.js';
import { PROTOCOL_VERSION, type Gradients } from './messages.js';

// Importing the codec installs its typed-array decoding for every msgpackr unpacker in the process.
const raw = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });
const layout = createLayout([40, 20, 3]); // 860 weights: 6880 bytes, above the size at which arrays may be views

function gradients(step: number): Gradients {
  return {
    type: 'gradients', v: PROTOCOL_VERSION, step, shardId: step + 1, version: step, computeMs: 0.5,
    blocks: [{
      level: 0, index: 0, cost: 1.25,
      nablaW: Float64Array.from({ length: layout.weightCount }, (_, i) => Math.sin(i + step)),
      nablaB: Float64Array.from({ length: layout.biasCount }, (_, i) => -i),
    }],
  };
}

/** The frame's bytes at `offset` inside a larger buffer, as a frame inside a socket read would be. */
function placed(bytes: Uint8Array, offset: number): Buffer {
  const buffer = Buffer.alloc(bytes.length + offset + 5, 0xee);
  buffer.set(bytes, offset);
  return buffer.subarray(offset, offset + bytes.length);
}

const bytesOf = (view: ArrayBufferView): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

describe('typed arrays through the codec', () => {
  it('decode to equal arrays wherever the frame sits, whether viewed or copied', () => {
    const kinds = new Set<string>();
    for (const step of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32]) {
      for (let offset = 0; offset < 8; offset++) {
        const message = gradients(step);
        const decoded = decodeToCoordinator(placed(encode(message), offset), { layout, dtype: 'float64' }) as Gradients;
        expect(decoded).toEqual(message);
        const nablaW = decoded.blocks[0].nablaW;
        expect(nablaW).toBeInstanceOf(Float64Array);
        expect(nablaW.byteOffset % 8).toBe(0);
        kinds.add(nablaW.buffer.byteLength === nablaW.byteLength ? 'copy' : 'view');
      }
    }
    expect([...kinds].sort()).toEqual(['copy', 'view']); // both paths were exercised
  });

  it('copies small arrays, so a few values never hold on to a large frame', () => {
    const decoded = decodeToCoordinator(placed(encode(gradients(3)), 0), { layout, dtype: 'float64' }) as Gradients;
    const nablaB = decoded.blocks[0].nablaB; // 23 values
    expect(nablaB.buffer.byteLength).toBe(nablaB.byteLength);
  });

  it('decodes every typed array type, large and small, at every alignment', () => {
    const types = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array];
    for (const Type of types) {
      for (const length of [3, 5000]) {
        const array = new Type(length);
        for (let i = 0; i < length; i++) array[i] = (i * 37) % 101;
        for (let offset = 0; offset < 8; offset++) {
          for (const prefix of ['', 'a', 'ab', 'abc']) {
            const back = raw.unpack(placed(raw.pack({ prefix, array }), offset)) as { array: ArrayBufferView };
            expect(back.array).toBeInstanceOf(Type);
            expect(bytesOf(back.array).equals(bytesOf(array))).toBe(true);
          }
        }
      }
    }
    const big = BigInt64Array.of(-5n, 7n);
    expect(raw.unpack(raw.pack({ big })).big).toEqual(big);
  });

  it('decodes ArrayBuffer and DataView values as copies, as msgpackr does', () => {
    const bytes = Uint8Array.of(1, 2, 3, 4, 5);
    const back = raw.unpack(placed(raw.pack({ buffer: bytes.buffer, view: new DataView(bytes.buffer) }), 3)) as { buffer: ArrayBuffer; view: DataView };
    expect(back.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint8Array(back.buffer))).toEqual([1, 2, 3, 4, 5]);
    expect(back.view).toBeInstanceOf(DataView);
    expect(back.view.getUint8(4)).toBe(5);
  });

  it('refuses a typed array whose byte length is not whole elements', () => {
    const frame = encode(gradients(9));
    // Shrink the nablaB extension by one byte: find its header (0xc8/0xc7 length, 't', Float64 code 8) and rewrite the length.
    const bad = Buffer.from(frame);
    const at = bad.lastIndexOf(Buffer.from([0x74, 8]));
    expect(bad[at - 2]).toBe(0xc7); // ext 8: one length byte
    bad[at - 1] -= 1;
    expect(() => decodeToCoordinator(bad, { layout, dtype: 'float64' })).toThrow(ProtocolError);
  });

  it('encodes transiently into a reused buffer, leaving earlier regular encodings intact', () => {
    const kept = encode(gradients(1));
    const keptCopy = Buffer.from(kept);
    const first = encodeTransient(gradients(2));
    expect(decodeToCoordinator(Buffer.from(first), { layout, dtype: 'float64' })).toEqual(gradients(2));
    const second = encodeTransient(gradients(3));
    expect(second.buffer).toBe(first.buffer); // the same memory, reused
    expect(second.byteOffset).toBe(first.byteOffset);
    expect(decodeToCoordinator(Buffer.from(second), { layout, dtype: 'float64' })).toEqual(gradients(3));
    expect(kept.equals(keptCopy)).toBe(true);
  });
});
