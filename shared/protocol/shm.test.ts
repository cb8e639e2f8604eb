import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLayout } from '../network/layout.js';
import { decodeToCoordinator, decodeToWorker, encode, encodeVia } from './codec.js';
import { PROTOCOL_VERSION, type Gradients, type ParamsUpdate } from './messages.js';
import { nativeAddon } from '../native-addon.js';
import { ShmReader, ShmWriter, SHM_MIN_BYTES, SHM_REF_BYTES, SHM_ROOT } from './shm.js';
import { refusalOf } from '../../test/support/refusal.js';

// A layout whose weights are above the lane's threshold and whose biases are below it: both paths in one frame.
const layout = createLayout([300, 100, 10]);
const hasShm = existsSync(SHM_ROOT);
// With the addon (native/shared-map.c) a writer copies frames into its slots' mappings; without it, it uses writev.
const hasMapping = typeof nativeAddon !== 'string';
const opened: Array<{ close(): void }> = [];

function lane(): { writer: ShmWriter; reader: ShmReader } {
  const writer = ShmWriter.create();
  if (!writer) throw new Error(`no writable ${SHM_ROOT}`);
  const reader = ShmReader.open(writer.offer);
  if (typeof reader === 'string') throw new Error(reader);
  opened.push(reader, writer);
  return { writer, reader };
}

function params(version: number, dtype: 'float32' | 'float64' = 'float64'): ParamsUpdate {
  const Type = dtype === 'float32' ? Float32Array : Float64Array;
  return {
    type: 'params', v: PROTOCOL_VERSION, version,
    weights: new Type(layout.weightCount).map((_, i) => Math.sin(i + version) / 3),
    biases: new Type(layout.biasCount).map((_, i) => Math.cos(i) / 7),
  };
}

afterEach(() => {
  for (const item of opened.splice(0)) item.close();
});

describe.skipIf(!hasShm)('shared-memory lane', () => {
  it('carries large arrays out of band, bit for bit, and leaves small ones inline', () => {
    const { writer, reader } = lane();
    for (const dtype of ['float64', 'float32'] as const) {
      const message = params(1, dtype);
      expect(message.weights.byteLength).toBeGreaterThanOrEqual(SHM_MIN_BYTES);
      expect(message.biases.byteLength).toBeLessThan(SHM_MIN_BYTES);
      const frame = encodeVia(message, writer);
      expect(frame.length).toBeLessThan(message.biases.byteLength + 200);
      const decoded = decodeToWorker(frame, { layout, dtype }, reader) as ParamsUpdate;
      expect(decoded.weights).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
      expect(Buffer.from(decoded.weights.buffer, decoded.weights.byteOffset, decoded.weights.byteLength))
        .toEqual(Buffer.from(message.weights.buffer));
      expect(decoded).toEqual(message);
    }
  });

  it('pooled: reuses read buffers once released, never before; fresh: never', () => {
    const writer = ShmWriter.create() as ShmWriter;
    const fresh = ShmReader.open(writer.offer) as ShmReader, pooled = ShmReader.open(writer.offer, 'pooled') as ShmReader;
    opened.push(fresh, pooled, writer);
    const job = { layout, dtype: 'float64' } as const;
    const read = (reader: ShmReader, version: number) => (decodeToWorker(encodeVia(params(version), writer), job, reader) as ParamsUpdate).weights;
    const first = read(pooled, 1), second = read(pooled, 2);
    expect(second.buffer).not.toBe(first.buffer); // both still held
    expect(first).toEqual(params(1).weights);
    pooled.releaseAll();
    const third = read(pooled, 3), fourth = read(pooled, 4);
    expect([first.buffer, second.buffer]).toContain(third.buffer);
    expect([first.buffer, second.buffer]).toContain(fourth.buffer);
    expect(third).toEqual(params(3).weights);
    expect(fourth).toEqual(params(4).weights);
    fresh.releaseAll(); // a no-op
    expect(read(fresh, 5).buffer).not.toBe(read(fresh, 6).buffer);
  });

  it('pooled: a retained array outlives releaseAll() until it is given back', () => {
    const writer = ShmWriter.create() as ShmWriter;
    const pooled = ShmReader.open(writer.offer, 'pooled') as ShmReader;
    opened.push(pooled, writer);
    const job = { layout, dtype: 'float64' } as const;
    const read = (version: number) => (decodeToWorker(encodeVia(params(version), writer), job, pooled) as ParamsUpdate).weights;
    const kept = read(1);
    pooled.retain(kept);
    pooled.releaseAll();
    const next = read(2);
    expect(next.buffer).not.toBe(kept.buffer);
    expect(kept).toEqual(params(1).weights);
    pooled.giveBack(kept);
    pooled.releaseAll();
    expect([kept.buffer, next.buffer]).toContain(read(3).buffer);
    pooled.retain(new Float64Array(4)); // not read from this lane: nothing to keep
  });

  it('moves every block of a gradients frame and validates them like inline ones', () => {
    const { writer, reader } = lane();
    const block = (index: number, value: number) => ({
      level: 0, index, cost: 1, nablaW: new Float64Array(layout.weightCount).fill(value), nablaB: new Float64Array(layout.biasCount).fill(value),
    });
    const message: Gradients = { type: 'gradients', v: PROTOCOL_VERSION, step: 1, shardId: 1, version: 0, computeMs: 1, blocks: [block(0, 0.5), block(1, -2)] };
    const decoded = decodeToCoordinator(encodeVia(message, writer), { layout, dtype: 'float64' }, reader);
    expect(decoded).toEqual(message);

    message.blocks[1].nablaW[12345] = Number.NaN;
    const error = refusalOf(() => decodeToCoordinator(encodeVia(message, writer), { layout, dtype: 'float64' }, reader));
    expect(error.code).toBe('not-finite');
    expect(error.message).toContain('nablaW[12345] is NaN');
  });

  it(`frames of changing sizes read back bit for bit (writes ${hasMapping ? 'through the slots\' mappings, which grow' : 'with writev: the addon is not loaded'})`, () => {
    const { writer, reader } = lane();
    // Each slot sees a small frame, then ones several times larger (mapped anew), then a small one again.
    // Networks [n, 8]: 8n float64 weights, 1 to 40 times SHM_MIN_BYTES (plus a little, off the 64 KiB grain).
    [1, 1, 1, 1, 9, 9, 40, 9, 1, 40, 1, 9].forEach((times, i) => {
      const net = createLayout([times * (SHM_MIN_BYTES / 64) + 3, 8]);
      const sent: ParamsUpdate = {
        type: 'params', v: PROTOCOL_VERSION, version: i,
        weights: Float64Array.from({ length: net.weightCount }, (_, k) => Math.sin(k * 0.37 + i)), biases: new Float64Array(8).fill(i),
      };
      const decoded = decodeToWorker(encodeVia(sent, writer), { layout: net, dtype: 'float64' }, reader) as ParamsUpdate;
      expect(Buffer.from(decoded.weights.buffer, decoded.weights.byteOffset, decoded.weights.byteLength).equals(Buffer.from(sent.weights.buffer))).toBe(true);
    });
    expect(writer.failure).toBeNull();
  });

  it('refuses references in frames that may not carry them: only params go to a worker, only gradients come back', () => {
    const { writer, reader } = lane();
    const job = { layout, dtype: 'float64' } as const;
    const gradientsAtWorker = encodeVia({ type: 'gradients', v: PROTOCOL_VERSION, step: 1, shardId: 1, version: 0, computeMs: 1,
      blocks: [{ level: 0, index: 0, cost: 1, nablaW: new Float64Array(layout.weightCount), nablaB: new Float64Array(layout.biasCount) }] }, writer);
    expect(refusalOf(() => decodeToWorker(gradientsAtWorker, job, reader)).message)
      .toBe('shared-memory references are allowed only in params frames, not in "gradients"');
    expect(refusalOf(() => decodeToCoordinator(encodeVia(params(1), writer), job, reader)).message)
      .toBe('shared-memory references are allowed only in gradients frames, not in "params"');
  });

  it('refuses a frame whose slot was written again before it was read', () => {
    const { writer, reader } = lane();
    const first = encodeVia(params(1), writer);
    for (const version of [2, 3, 4]) encodeVia(params(version), writer); // the other three slots: the first is still intact
    expect(decodeToWorker(first, { layout, dtype: 'float64' }, reader)).toMatchObject({ version: 1 });
    encodeVia(params(5), writer); // the first frame's slot again
    const error = refusalOf(() => decodeToWorker(first, { layout, dtype: 'float64' }, reader));
    expect(error.code).toBe('malformed');
    expect(error.message).toMatch(/holds write 5\/5, not 1: it was reused before this frame was read/);
  });

  it('refuses references without a lane, past the end of the file, or with bad fields, before allocating', () => {
    const { writer, reader } = lane();
    const frame = encodeVia(params(1), writer);
    const job = { layout, dtype: 'float64' } as const;
    expect(refusalOf(() => decodeToWorker(frame, job, null)).message).toContain('a shared-memory reference arrived on a link without a shared-memory lane');

    truncateSync(join(writer.offer.dir, 'slot1'), 1000);
    expect(refusalOf(() => decodeToWorker(frame, job, reader)).message).toMatch(/slot 1 ends before the referenced 248000 bytes at offset 8/);

    const ref = (slot: number, flag: number, seq: bigint, offset: bigint, length: bigint, size = SHM_REF_BYTES): Buffer => {
      const bytes = Buffer.alloc(size);
      bytes.writeUInt32LE(slot, 0);
      bytes.writeUInt32LE(flag, 4);
      bytes.writeBigUInt64LE(seq, 8);
      bytes.writeBigUInt64LE(offset, 16);
      if (size >= 32) bytes.writeBigUInt64LE(length, 24);
      return bytes;
    };
    const forged: Array<[Buffer, RegExp]> = [
      [ref(0, 0, 1n, 8n, 10n, 24), /a shared-memory reference is 32 bytes, got 24/],
      [ref(4, 0, 1n, 8n, 10n), /bad shared-memory reference \(slot 4,/],
      [ref(1, 2, 1n, 8n, 10n), /isFloat32 2/],
      [ref(1, 0, 0n, 8n, 10n), /seq 0/],
      [ref(1, 0, 1n, 12n, 10n), /offset 12/],
      [ref(1, 0, 1n, 8n, 1n << 40n), /length 1099511627776/],
    ];
    for (const [bytes, message] of forged) {
      const error = refusalOf(() => decodeToWorker(withRef(bytes), job, reader));
      expect(error.code).toBe('malformed');
      expect(error.message).toMatch(message);
    }
  });

  it('checks the offers of hello and welcome like every other field', () => {
    const hello = (shm: unknown) => encode({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'w', kernel: 'js', shm } as never);
    const job = { layout, dtype: 'float64' } as const;
    expect(decodeToCoordinator(hello({ dir: '/dev/shm/nabla-1-00', nonce: 'ab' }), job)).toMatchObject({ shm: { dir: '/dev/shm/nabla-1-00', nonce: 'ab' } });
    expect(refusalOf(() => decodeToCoordinator(hello('here'), job)).message).toBe('shm must be a map, got string');
    expect(refusalOf(() => decodeToCoordinator(hello({ dir: 5, nonce: 'ab' }), job)).message).toBe('dir must be a string, got number');
    expect(refusalOf(() => decodeToCoordinator(hello({ dir: 'd', nonce: 'n'.repeat(65) }), job)).message).toMatch(/nonce is 65 characters, at most 64/);
  });

  it('opens a peer\'s lane only when its probe holds the nonce offered, and only under its own naming', () => {
    const writer = ShmWriter.create() as ShmWriter;
    opened.push(writer);
    expect(ShmReader.open({ ...writer.offer, nonce: 'f'.repeat(32) })).toMatch(/probe holds another nonce/);
    expect(ShmReader.open({ dir: '/etc', nonce: 'x' })).toMatch(/\/etc is not a lane directory/);
    expect(ShmReader.open({ dir: `${SHM_ROOT}/nabla-1-1-${'0'.repeat(16)}/../x`, nonce: 'x' })).toMatch(/is not a lane directory/);
    expect(ShmReader.open({ dir: `${SHM_ROOT}/nabla-1-${'0'.repeat(16)}`, nonce: 'x' })).toMatch(/is not a lane directory/);
    expect(ShmReader.open({ dir: `${SHM_ROOT}/nabla-1-1-${'0'.repeat(16)}`, nonce: 'x' })).toMatch(/cannot read .* \(ENOENT\)/);
    const reader = ShmReader.open(writer.offer);
    expect(reader).toBeInstanceOf(ShmReader);
    (reader as ShmReader).close();
  });

  it('reads only a private directory of this user holding plain files of its own (no symlink, no second name)', () => {
    const fresh = () => { const writer = ShmWriter.create() as ShmWriter; opened.push(writer); return writer; };
    const secret = join(tmpdir(), `nabla-secret-${process.pid}`);
    writeFileSync(secret, 'x'.repeat(4096));
    try {
      const linked = fresh();
      rmSync(join(linked.offer.dir, 'slot0'));
      symlinkSync(secret, join(linked.offer.dir, 'slot0'));
      expect(ShmReader.open(linked.offer)).toMatch(/cannot read .* \(ELOOP\)/);

      const hardLinked = fresh();
      rmSync(join(hardLinked.offer.dir, 'slot1'));
      linkSync(join(linked.offer.dir, 'probe'), join(hardLinked.offer.dir, 'slot1')); // a file with two names
      expect(ShmReader.open(hardLinked.offer)).toMatch(/slot1 is not a file of this lane/);

      const open = fresh();
      chmodSync(open.offer.dir, 0o755);
      expect(ShmReader.open(open.offer)).toMatch(/is not a private directory of this user/);

      const real = fresh();
      const alias = real.offer.dir.replace(/-[0-9a-f]{16}$/, `-${'e'.repeat(16)}`);
      symlinkSync(real.offer.dir, alias);
      try {
        expect(ShmReader.open({ dir: alias, nonce: real.offer.nonce })).toMatch(/is not a directory/);
      } finally {
        rmSync(alias);
      }
    } finally {
      rmSync(secret);
    }
  });

  it('removes its directory when closed, and lanes left by dead processes of its pid namespace when a new one starts', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    const stale = join(SHM_ROOT, `nabla-${namespace}-${dead.stdout}-${'ab'.repeat(8)}`);
    // The same pid in another namespace (a container sharing the tmpfs) may well be alive: not ours to judge.
    const foreign = join(SHM_ROOT, `nabla-1${namespace}-${dead.stdout}-${'cd'.repeat(8)}`);
    for (const dir of [stale, foreign]) {
      mkdirSync(dir);
      writeFileSync(join(dir, 'slot0'), 'left behind');
    }
    const writer = ShmWriter.create() as ShmWriter;
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
    rmSync(foreign, { recursive: true });
    expect(readdirSync(writer.offer.dir).sort()).toEqual(['probe', 'slot0', 'slot1', 'slot2', 'slot3']);
    writer.close();
    expect(existsSync(writer.offer.dir)).toBe(false);
    writer.close(); // idempotent
  });
});

/**
 * A params frame whose `weights` is a shared-memory reference extension (msgpack ext 8, type 0x62) holding `ref`:
 * what a peer could forge, whatever our encoder writes.
 */
function withRef(ref: Buffer): Buffer {
  const frame = encode({ type: 'params', v: PROTOCOL_VERSION, version: 1, weights: [] as never, biases: params(1).biases });
  const at = frame.indexOf(Buffer.from('weights')) + 'weights'.length;
  const ext = Buffer.concat([Buffer.from([0xc7, ref.length, 0x62]), ref]);
  return Buffer.concat([frame.subarray(0, at), ext, frame.subarray(at + 1)]); // the empty array is one byte (0x90)
}
