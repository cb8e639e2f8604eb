/**
 * The shared-memory lane: between a coordinator and a worker on the same host, the large float arrays of a frame
 * (parameters out, gradient sums back) skip the socket. The sender writes them into a file of its own on a tmpfs
 * (/dev/shm) and the WebSocket frame carries a reference instead (msgpack extension SHM_REF_EXTENSION, see
 * codec.ts); the receiver reads them back with one pread each before the frame is validated as usual. A 1 MB array
 * then costs two page-cache copies instead of a socket round of framing, masking, chunked reads and concatenation.
 *
 * Rules (docs/PROTOCOL.md, "Shared memory"):
 * - Each side writes only its own directory; it offers it in its hello or welcome together with a random nonce
 *   stored in the directory's `probe` file. The peer uses the lane only if it reads that same nonce back, which
 *   proves both ends see one tmpfs (a worker on another machine or in another container does not).
 * - A directory holds SLOTS slot files used in turn; each write has a sequence number, stamped before and after
 *   every array. A reference names slot, sequence, type, offset and length. A reader that finds other stamps (the
 *   slot was reused before it read it) or a short file refuses the frame as malformed, like any broken frame.
 * - A slot is reused SLOTS writes later. Frames are read as they arrive, the coordinator writes new parameters only
 *   after every shard of the step returned, and a worker writes results for at most RESULTS_AHEAD steps beyond the
 *   last shard it was sent (those it runs ahead, worker/client.ts) while the coordinator reads its result for step t
 *   before it sends the shard of step t + 1: only a peer stalled long enough to be dropped meets a reused slot, and
 *   its frame is refused.
 * - Any array may still travel inline; a side whose lane cannot be written (a full tmpfs) closes it and sends inline.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, statSync, writeFileSync, writevSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Floats } from '../kernel/dtype.js';
import { nativeAddon } from '../native-addon.js';
import { fail } from './errors.js';
import { RESULTS_AHEAD } from './messages.js';

/** Arrays smaller than this stay inline in the frame (a pread costs more than copying a few KB). */
export const SHM_MIN_BYTES = 64 * 1024;
/** Where lanes live: a tmpfs, so files are memory and vanish at reboot. */
export const SHM_ROOT = '/dev/shm';
const DIR_PREFIX = 'nabla-';
/**
 * A lane directory's name: nabla-<pid namespace>-<pid>-<16 hex digits>; anything else offered by a peer is refused.
 * The namespace (the inode of /proc/self/ns/pid, 0 where unknown) matters because containers that share a tmpfs
 * (docker --ipc) have pids of their own: a pid is only looked up in the namespace it belongs to.
 */
const DIR_PATTERN = /^\/dev\/shm\/nabla-(\d+)-(\d+)-[0-9a-f]{16}$/;
/** This process's pid namespace (see pidNamespace; read once, it does not change). */
const PID_NAMESPACE = pidNamespace();
/** Slot files per lane: a worker's results may run RESULTS_AHEAD steps beyond its last shard (see the rules above). */
export const SLOTS = RESULTS_AHEAD + 1;
const STAMP_BYTES = 8;

/** How a peer finds our lane: its directory and the nonce in its probe file. */
export interface ShmOffer {
  dir: string;
  nonce: string;
}

/** A reference to one array in a slot, as it travels inside a frame. */
export class ShmRef {
  constructor(
    readonly slot: number,
    readonly seq: number,
    readonly isFloat32: boolean,
    /** Byte offset of the array's data; its stamps sit in the 8 bytes before and after. */
    readonly offset: number,
    readonly length: number,
  ) {}
}

/** The sending side of a lane: owns its directory, writes each frame's arrays into the next slot. */
export class ShmWriter {
  readonly offer: ShmOffer;
  private readonly fds: number[];
  /** Each slot file mapped into memory (mapShared), once a frame needs it; null: not yet, or writev without the addon. */
  private readonly maps: Array<Uint8Array | null> = new Array(SLOTS).fill(null);
  private seq = 0;
  private isClosed = false;
  /** Why the lane stopped taking writes (its tmpfs full, say), or null while it works. */
  failure: string | null = null;
  /** Bytes of arrays written so far (stamps and padding not counted). */
  bytesWritten = 0;

  private constructor(readonly dir: string) {
    const nonce = randomBytes(16).toString('hex');
    writeFileSync(join(dir, 'probe'), nonce, { mode: 0o600 });
    this.fds = Array.from({ length: SLOTS }, (_, slot) => openSync(join(dir, `slot${slot}`), 'w+', 0o600));
    this.offer = { dir, nonce };
  }

  /** A new lane under SHM_ROOT, or null when there is no writable tmpfs there (the socket carries everything). */
  static create(): ShmWriter | null {
    try {
      sweepStaleLanes();
      const dir = join(SHM_ROOT, `${DIR_PREFIX}${PID_NAMESPACE}-${process.pid}-${randomBytes(8).toString('hex')}`);
      mkdirSync(dir, { mode: 0o700 });
      const writer = new ShmWriter(dir);
      process.once('exit', () => writer.close());
      return writer;
    } catch {
      return null;
    }
  }

  /**
   * Moves the float arrays of at least SHM_MIN_BYTES in `message` into the next slot and returns a copy of the
   * message holding ShmRefs in their place (the arrays themselves are not changed). One writev per frame. Returns
   * null when the lane cannot take them (then `failure` says why, the lane is closed for good, and the frame must
   * carry its arrays inline: the peer reads either).
   */
  externalize<T>(message: T): T | null {
    if (this.isClosed) return null;
    const seq = ++this.seq;
    const slot = seq % SLOTS;
    const stamp = Buffer.alloc(STAMP_BYTES);
    stamp.writeDoubleLE(seq);
    const pieces: Uint8Array[] = [];
    let offset = 0, arrayBytes = 0;
    const place = (array: Floats): ShmRef => {
      const padding = (STAMP_BYTES - (offset % STAMP_BYTES)) % STAMP_BYTES;
      if (padding > 0) pieces.push(PADDING.subarray(0, padding));
      offset += padding;
      pieces.push(stamp, new Uint8Array(array.buffer, array.byteOffset, array.byteLength), stamp);
      const ref = new ShmRef(slot, seq, array instanceof Float32Array, offset + STAMP_BYTES, array.length);
      offset += 2 * STAMP_BYTES + array.byteLength;
      arrayBytes += array.byteLength;
      return ref;
    };
    const copy = replaceArrays(message, place) as T;
    if (pieces.length === 0) return copy;
    try {
      if (mapShared) this.copyIntoSlot(slot, pieces, offset);
      else {
        const written = writevSync(this.fds[slot], pieces, 0);
        if (written !== offset) throw new Error(`wrote ${written} of ${offset} bytes`);
      }
      this.bytesWritten += arrayBytes;
    } catch (error) {
      this.failure = `cannot write ${this.dir}/slot${slot} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      this.close();
      return null;
    }
    return copy;
  }

  /**
   * Copies a frame's pieces to the start of a slot through its mapping, mapped anew (larger) when the frame does not
   * fit: a lane's frames keep their size, so each slot is mapped once or twice in a run.
   */
  private copyIntoSlot(slot: number, pieces: readonly Uint8Array[], bytes: number): void {
    let map = this.maps[slot];
    if (!map || map.length < bytes) {
      map = this.maps[slot] = new Uint8Array((mapShared as MapShared)(this.fds[slot], Math.ceil(bytes / MAP_GRAIN) * MAP_GRAIN));
    }
    let at = 0;
    for (const piece of pieces) {
      map.set(piece, at);
      at += piece.length;
    }
  }

  /** Closes the slot files and removes the directory (idempotent); the mappings go with their last reference. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.maps.fill(null);
    for (const fd of this.fds) closeSync(fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const PADDING = new Uint8Array(STAMP_BYTES);

/**
 * native/shared-map.c's mapShared(fd, bytes): the file given `bytes` of blocks (a full tmpfs throws ENOSPC here) and
 * mapped read-write; or null without the addon (or with NABLA_NATIVE=off), when a writer writes with writev instead.
 * A 1 MB gradient: 0.04 ms copied into the mapping, 0.14 ms through writev (the kernel's per-page write path).
 */
type MapShared = (fd: number, bytes: number) => ArrayBuffer;
const mapShared = typeof nativeAddon === 'string' ? null : (nativeAddon.addon.mapShared as MapShared | undefined) ?? null;
/** Slots are mapped in whole multiples of this (64 KiB). */
const MAP_GRAIN = 1 << 16;

function replaceArrays(value: unknown, place: (array: Floats) => ShmRef): unknown {
  if (value instanceof Float64Array || value instanceof Float32Array) return value.byteLength >= SHM_MIN_BYTES ? place(value) : value;
  if (ArrayBuffer.isView(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => replaceArrays(item, place));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = replaceArrays(item, place);
  return copy;
}

/**
 * How long the arrays a reader returns stay valid. `fresh`: for good (each read allocates). `pooled`: until the
 * receiver calls releaseAll(), which it does once it is done with everything read so far (a worker after copying the
 * parameters into its replica, the coordinator when a step is over): the buffers are then reused, sparing a
 * parameter-sized allocation per frame, its page faults and the garbage collections those allocations drive.
 */
export type ShmLifetime = 'fresh' | 'pooled';

/** The receiving side of a peer's lane: opened only when the peer's probe holds the nonce it offered. */
export class ShmReader {
  private isClosed = false;
  /** Bytes of arrays read so far. */
  bytesRead = 0;
  /** Pooled buffers: free ones by size, and the ones handed out since the last releaseAll(). */
  private readonly free = new Map<number, Buffer[]>();
  private readonly lent: Buffer[] = [];
  /** Lent buffers the receiver holds past releaseAll() (see retain). */
  private readonly retained: Buffer[] = [];

  private constructor(readonly dir: string, private readonly lifetime: ShmLifetime, private readonly fds: number[]) {}

  /**
   * Opens the lane a peer offers, or explains why it cannot be used (then the socket carries everything): a
   * directory outside SHM_ROOT's naming is refused unread, and one whose probe does not hold the nonce is on
   * another host or in another container. Whatever a lane holds ends up in the model, which every worker sees, so
   * only what a nabla process of our own user wrote for this is read: a real directory (not a symlink) of ours that
   * no one else may read, and regular files of ours with no other name (no symlink, no hard link to a file of
   * someone else's on that tmpfs).
   */
  static open(offer: ShmOffer, lifetime: ShmLifetime = 'fresh'): ShmReader | string {
    if (!DIR_PATTERN.test(offer.dir)) return `${offer.dir} is not a lane directory (${SHM_ROOT}/${DIR_PREFIX}<pid namespace>-<pid>-<hex>)`;
    const fds: number[] = [];
    try {
      const dir = lstatSync(offer.dir);
      if (!dir.isDirectory()) return `${offer.dir} is not a directory`;
      if (dir.uid !== process.getuid?.() || (dir.mode & 0o077) !== 0) return `${offer.dir} is not a private directory of this user`;
      for (const name of ['probe', ...Array.from({ length: SLOTS }, (_, slot) => `slot${slot}`)]) {
        const fd = openSync(join(offer.dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
        fds.push(fd);
        const file = fstatSync(fd);
        if (!file.isFile() || file.uid !== dir.uid || file.nlink !== 1) return `${offer.dir}/${name} is not a file of this lane`;
      }
      if (readFileSync(fds[0], 'utf8') !== offer.nonce) return `${offer.dir}/probe holds another nonce`;
      const [probe, ...slots] = fds.splice(0);
      closeSync(probe);
      return new ShmReader(offer.dir, lifetime, slots);
    } catch (error) {
      return `cannot read ${offer.dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  /** The array a reference names, read into a fresh buffer; a reused slot or a short file is a malformed frame. */
  read(ref: ShmRef): Floats {
    if (this.isClosed) fail('malformed', 'a shared-memory reference arrived after the lane was closed');
    const bytesPerValue = ref.isFloat32 ? 4 : 8;
    const bytes = ref.length * bytesPerValue;
    const fd = this.fds[ref.slot];
    // Checked before allocating: a reference is the peer's word, the file's size is not.
    if (ref.offset + bytes + STAMP_BYTES > fstatSync(fd).size) fail('malformed', `shared-memory slot ${ref.slot} ends before the referenced ${bytes} bytes at offset ${ref.offset}`);
    const whole = this.buffer(bytes + 2 * STAMP_BYTES);
    if (readSync(fd, whole, 0, whole.length, ref.offset - STAMP_BYTES) !== whole.length) fail('malformed', `shared-memory slot ${ref.slot} was cut short while being read`);
    const before = whole.readDoubleLE(0), after = whole.readDoubleLE(STAMP_BYTES + bytes);
    if (before !== ref.seq || after !== ref.seq) {
      fail('malformed', `shared-memory slot ${ref.slot} holds write ${before}/${after}, not ${ref.seq}: it was reused before this frame was read`);
    }
    this.bytesRead += bytes;
    const start = whole.byteOffset + STAMP_BYTES; // 0 + 8 (an unpooled buffer): aligned for either type
    return ref.isFloat32 ? new Float32Array(whole.buffer, start, ref.length) : new Float64Array(whole.buffer, start, ref.length);
  }

  private buffer(size: number): Buffer {
    // Not zero-filled (the read overwrites every byte, or the frame is refused): a tenth of a millisecond per MB.
    if (this.lifetime === 'fresh') return Buffer.allocUnsafeSlow(size);
    const buffer = this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
    this.lent.push(buffer);
    return buffer;
  }

  /**
   * (pooled) Keeps the buffer under `array` (read from this lane) out of the coming releaseAll() calls, for a receiver
   * that holds it past one: a result kept for a later step. giveBack() returns it to the usual cycle.
   */
  retain(array: Floats): void {
    const at = this.lent.findIndex((buffer) => buffer.buffer === array.buffer);
    if (at >= 0) this.retained.push(...this.lent.splice(at, 1));
  }

  /** (pooled) A retained array is no longer held past the next releaseAll(). */
  giveBack(array: Floats): void {
    const at = this.retained.findIndex((buffer) => buffer.buffer === array.buffer);
    if (at >= 0) this.lent.push(...this.retained.splice(at, 1));
  }

  /** (pooled) Every array read so far may be overwritten by later reads: the receiver holds none of them any more. */
  releaseAll(): void {
    for (const buffer of this.lent) {
      const sameSize = this.free.get(buffer.length);
      if (sameSize) sameSize.push(buffer);
      else this.free.set(buffer.length, [buffer]);
    }
    this.lent.length = 0;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const fd of this.fds) closeSync(fd);
    this.free.clear();
    this.lent.length = 0;
    this.retained.length = 0;
  }
}

/** A reference's bytes inside its msgpack extension: u32 slot, u32 isFloat32 (0/1), u64 seq, u64 offset, u64 length. */
export const SHM_REF_BYTES = 32;

export function encodeShmRef(ref: ShmRef): Buffer {
  const bytes = Buffer.alloc(SHM_REF_BYTES);
  bytes.writeUInt32LE(ref.slot, 0);
  bytes.writeUInt32LE(ref.isFloat32 ? 1 : 0, 4);
  bytes.writeBigUInt64LE(BigInt(ref.seq), 8);
  bytes.writeBigUInt64LE(BigInt(ref.offset), 16);
  bytes.writeBigUInt64LE(BigInt(ref.length), 24);
  return bytes;
}

/** Reads a reference a peer sent, checking every field before anything is read from the lane. */
export function decodeShmRef(bytes: Uint8Array): ShmRef {
  if (bytes.length !== SHM_REF_BYTES) fail('malformed', `a shared-memory reference is ${SHM_REF_BYTES} bytes, got ${bytes.length}`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const slot = view.readUInt32LE(0), flag = view.readUInt32LE(4);
  const seq = Number(view.readBigUInt64LE(8)), offset = Number(view.readBigUInt64LE(16)), length = Number(view.readBigUInt64LE(24));
  if (slot >= SLOTS || flag > 1 || seq < 1 || !Number.isSafeInteger(seq) || offset < STAMP_BYTES || offset % STAMP_BYTES !== 0 ||
      offset > 2 ** 40 || length > 2 ** 28) {
    fail('malformed', `bad shared-memory reference (slot ${slot}, isFloat32 ${flag}, seq ${seq}, offset ${offset}, length ${length})`);
  }
  return new ShmRef(slot, seq, flag === 1, offset, length);
}

/**
 * Removes lane directories left by processes that died without cleaning up (killed with SIGKILL): ours by name, whose
 * pid is not running. Best effort; a directory in use is never touched because its process is alive.
 */
function sweepStaleLanes(): void {
  for (const name of readdirSync(SHM_ROOT)) {
    const dir = join(SHM_ROOT, name);
    const match = DIR_PATTERN.exec(dir);
    if (!match || match[1] !== PID_NAMESPACE || match[1] === '0' || isAlive(Number(match[2]))) continue;
    if (statSync(dir).uid === process.getuid?.()) rmSync(dir, { recursive: true, force: true });
  }
}

/** This process's pid namespace, as the inode number in /proc/self/ns/pid ("pid:[4026531836]"), or "0". */
function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
