/**
 * Hostile frames for the coordinator's wire protocol, as fast-check arbitraries, and an independent model of how
 * the coordinator must answer each one (test/e2e/fuzz.test.ts compares the two against a live coordinator).
 * The model decodes the frame's bytes itself, so a generator never has to know whether its output is valid.
 */
import fc from 'fast-check';
import { addExtension, Packr } from 'msgpackr';
import { PROTOCOL_VERSION, type FailureCode } from '../../shared/protocol/messages.js';

/** The wire format as the protocol documents it, built here: the fuzzer shares no runtime code with the product. */
export const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

/** Extension 0x62 is a shared-memory reference (docs/PROTOCOL.md, "Shared memory"), refused on a link without a lane. */
class SharedMemoryReference extends Error {}
const noLane = { code: 'malformed' as const, mention: 'a shared-memory reference arrived on a link without a shared-memory lane' };
addExtension({ type: 0x62, unpack: () => { throw new SharedMemoryReference(); } });

/** The parameter counts of the job under attack. */
export interface JobShape { weightCount: number; biasCount: number }

/** Where in a connection's life the frame arrives: as its first frame, or right after a valid hello. */
export type Context = 'fresh' | 'greeted';

/** A result for a real shard that must still be refused: built once the shard arrives, from its tag. */
export type Forgery = { kind: 'stale-version'; versionAhead: number; blocks: Fields[] } | { kind: 'foreign-blocks'; blocks: Fields[] };

export interface FuzzFrame {
  family: string;
  context: Context;
  /** The frame's bytes; UTF-8 (or not) text when `isBinary` is false. */
  payload: Uint8Array;
  isBinary: boolean;
  forgery?: Forgery;
}

/** What was wrong with a frame: the failure code and a piece of text the failure message must contain. */
export interface Defect { code: FailureCode; mention: string }

export type Verdict =
  | { kind: 'refused'; defects: Defect[] } // a failure naming one of the defects, then close 1002/1008
  | { kind: 'accepted' } // silently: the probe sent after it is what gets refused
  | { kind: 'closes-normally' } // a worker's own failure report: close 1000, no reply
  | { kind: 'too-big' } // ws closes 1009 on the frame header, before the protocol sees it
  | { kind: 'bad-utf8' }; // ws closes 1007, as RFC 6455 §8.1 requires for a text frame that is not UTF-8

/** Every failure code of the protocol (a Record, so the compiler insists the list is complete). */
const FAILURE_CODES: Record<FailureCode, true> = {
  'version-mismatch': true, malformed: true, unexpected: true, 'bad-field': true, 'bad-length': true,
  'not-finite': true, 'too-many-faults': true, 'compute-error': true,
};
export const isKnownCode = (code: unknown): boolean => typeof code === 'string' && Object.hasOwn(FAILURE_CODES, code);

/** No real job reaches this step, so a well-formed result carrying it is always dropped as stale, never applied. */
export const FAR_STEP = 2 ** 40;

type Fields = Record<string, unknown>;

const encode = (value: unknown): Uint8Array => packr.pack(value);
const bytes = (...parts: Array<Uint8Array | number[]>): Uint8Array => Buffer.concat(parts.map((part) => Uint8Array.from(part)));
const u32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u16 = (n: number): number[] => [(n >>> 8) & 255, n & 255];

// ---- values -------------------------------------------------------------------------------------------------

const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];

/** A typed array of any kind, from random bytes (so float kinds may hold NaN or ±Infinity). */
const anyTypedArray = fc.tuple(fc.constantFrom(...TYPED_ARRAYS), fc.uint8Array({ maxLength: 96 }))
  .map(([Kind, raw]) => new Kind(raw.buffer.slice(0, raw.length - (raw.length % Kind.BYTES_PER_ELEMENT))));

/** Numbers a validator must think twice about. */
const awkwardNumber = fc.oneof(
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, -1, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE),
  fc.double(), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

const scalar = fc.oneof(
  fc.string({ maxLength: 24 }), fc.string({ maxLength: 24, unit: 'binary' }), awkwardNumber, fc.boolean(),
  fc.constant(null), fc.constant(undefined), fc.bigInt(), fc.date({ noInvalidDate: false }),
);

/** Any msgpack-encodable value: scalars, typed arrays, nested lists and maps. */
const junk: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 },
    scalar, anyTypedArray,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 })),
})).value;

/** Something of the wrong kind for a field that holds `count` float64 values. */
function wrongArray(count: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(...TYPED_ARRAYS.filter((Kind) => Kind !== Float64Array)).map((Kind) => new Kind(count)), // right count, wrong kind
    fc.constant(null).map(() => new Uint8Array(count * 8)), // right byte length, wrong kind
    fc.float64Array({ maxLength: count + 8, noNaN: true }).filter((a) => a.length !== count), // wrong length
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: count, maxLength: count }), // a plain list
    withNonFinite(count),
    junk,
  );
}

/** A Float64Array of `count` values with NaN or ±Infinity at one to three places. */
function withNonFinite(count: number): fc.Arbitrary<Float64Array> {
  return fc.tuple(finiteFloats(count), fc.array(fc.tuple(fc.nat(count - 1), fc.constantFrom(Number.NaN, Infinity, -Infinity)), { minLength: 1, maxLength: 3 }))
    .map(([finite, holes]) => {
      const values = Float64Array.from(finite);
      for (const [at, value] of holes) values[at] = value;
      return values;
    });
}

const finiteFloats = (count: number): fc.Arbitrary<Float64Array> =>
  fc.float64Array({ minLength: count, maxLength: count, noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });

// ---- well-formed messages -----------------------------------------------------------------------------------

const hello = fc.record({
  type: fc.constant('hello'), v: fc.constant(1), role: fc.constantFrom('worker', 'monitor'),
  name: fc.string({ maxLength: 200 }), kernel: fc.string({ maxLength: 40 }),
});

const block = (shape: JobShape): fc.Arbitrary<Fields> => fc.record({
  level: fc.integer({ min: 0, max: 31 }), index: fc.integer({ min: 0, max: 2 ** 20 }),
  cost: fc.double({ min: 0, max: 1e300, noNaN: true }),
  nablaW: finiteFloats(shape.weightCount), nablaB: finiteFloats(shape.biasCount),
});

const gradients = (shape: JobShape): fc.Arbitrary<Fields> => fc.record({
  type: fc.constant('gradients'), v: fc.constant(1),
  step: fc.integer({ min: FAR_STEP, max: Number.MAX_SAFE_INTEGER }), shardId: fc.nat(), version: fc.nat(),
  computeMs: fc.double({ min: -1e9, max: 1e9, noNaN: true }),
  blocks: fc.array(block(shape), { minLength: 1, maxLength: 3 }),
});

const failure = fc.record({ type: fc.constant('failure'), v: fc.constant(1), code: fc.string({ maxLength: 40 }), message: fc.string({ maxLength: 300 }) });

const wellFormed = (shape: JobShape): fc.Arbitrary<Fields> => fc.oneof(hello, gradients(shape), failure);

// ---- mutations ----------------------------------------------------------------------------------------------

type Mutation = { op: 'delete'; key: string } | { op: 'set'; key: string; value: unknown };

/** Replaces, deletes or adds fields of a map. */
function mutate(base: Fields, mutations: Mutation[]): Fields {
  const result: Fields = { ...base };
  for (const m of mutations) {
    if (m.op === 'delete') delete result[m.key];
    else Object.defineProperty(result, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

function mutations(keys: string[], valueFor: (key: string) => fc.Arbitrary<unknown>, maxLength = 3): fc.Arbitrary<Mutation[]> {
  const one: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((key): Mutation => ({ op: 'delete', key })) },
    { weight: 4, arbitrary: fc.constantFrom(...keys).chain((key) => valueFor(key).map((value): Mutation => ({ op: 'set', key, value }))) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), junk).map(([key, value]): Mutation => ({ op: 'set', key, value })) },
  );
  return fc.array(one, { minLength: 1, maxLength });
}

const typeString = fc.oneof(
  fc.constantFrom('Hello', 'HELLO', 'hello ', ' hello', 'hello\0', 'gradient', 'Gradients', 'welcome', 'params', 'shard', 'status', 'done',
    'apply', 'failure ', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty'),
  fc.string({ maxLength: 60 }), fc.string({ maxLength: 60, unit: 'binary' }),
);

/** Valid messages whose `type` or `v` is wrong, missing or of the wrong kind. */
const envelopeFamily = (shape: JobShape) => fc.tuple(wellFormed(shape), mutations(['type', 'v'], (key) => key === 'type'
  ? fc.oneof(typeString, junk)
  : fc.oneof(awkwardNumber, fc.constantFrom(String(PROTOCOL_VERSION), `v${PROTOCOL_VERSION}`, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1, 0, BigInt(PROTOCOL_VERSION), [PROTOCOL_VERSION], { v: PROTOCOL_VERSION }, true), fc.string({ maxLength: 8 }), junk), 2))
  .map(([base, changes]) => encode(mutate(base, changes)));

const helloValue = (key: string): fc.Arbitrary<unknown> => {
  if (key === 'role') return fc.oneof(fc.constantFrom('Worker', 'worker ', 'admin', 'coordinator', '', 'monitor\0'), junk);
  const longest = key === 'kernel' ? 40 : 200;
  return fc.oneof(fc.string({ minLength: longest + 1, maxLength: longest + 40 }), fc.string({ maxLength: longest, unit: 'binary' }), junk);
};
const helloFamily = fc.tuple(hello, mutations(['role', 'name', 'kernel'], helloValue)).map(([base, changes]) => encode(mutate(base, changes)));

const integerValue = fc.oneof(awkwardNumber, fc.constantFrom('12', '0', -1, 1.25, 2 ** 53, 2 ** 60), junk);

function gradientsFamily(shape: JobShape) {
  const blockValue = (key: string): fc.Arbitrary<unknown> => {
    if (key === 'nablaW') return wrongArray(shape.weightCount);
    if (key === 'nablaB') return wrongArray(shape.biasCount);
    if (key === 'cost') return fc.oneof(fc.constantFrom(Number.NaN, Infinity, -Infinity, -1e-300, -1, '0.5'), awkwardNumber, junk);
    return integerValue;
  };
  const badBlock = fc.tuple(block(shape), mutations(['level', 'index', 'cost', 'nablaW', 'nablaB'], blockValue)).map(([b, changes]) => mutate(b, changes));
  const blocksValue = fc.oneof(
    fc.constant([]), fc.array(block(shape), { minLength: 65, maxLength: 66 }), junk,
    fc.array(fc.oneof(block(shape), badBlock, junk), { minLength: 1, maxLength: 4 }),
  );
  const topValue = (key: string): fc.Arbitrary<unknown> => (key === 'blocks' ? blocksValue : key === 'computeMs' ? fc.oneof(awkwardNumber, junk) : integerValue);
  return fc.tuple(gradients(shape), fc.nat(2), badBlock, mutations(['step', 'shardId', 'version', 'computeMs', 'blocks'], topValue, 2), fc.boolean())
    .map(([base, at, bad, changes, mutateTop]) => {
      const blocks = [...(base.blocks as Fields[])];
      blocks[Math.min(at, blocks.length - 1)] = bad;
      return encode(mutateTop ? mutate(base, changes) : { ...base, blocks });
    });
}

type Flaw = 'non-finite number' | 'wrong length' | 'wrong array kind';

/** A result that is valid but for one flaw, in `computeMs` or in one field of one of its blocks. */
function singleFlawFamily(shape: JobShape, flaw: Flaw) {
  const count = (field: string): number => (field === 'nablaW' ? shape.weightCount : shape.biasCount);
  const fields = flaw === 'non-finite number' ? ['nablaW', 'nablaB', 'cost', 'computeMs'] : ['nablaW', 'nablaB'];
  const flawed = (field: string): fc.Arbitrary<unknown> => {
    if (flaw === 'non-finite number') return field === 'cost' || field === 'computeMs' ? fc.constantFrom(Number.NaN, Infinity, -Infinity) : withNonFinite(count(field));
    if (flaw === 'wrong length') return fc.float64Array({ maxLength: count(field) + 8, noNaN: true }).filter((a) => a.length !== count(field));
    return fc.oneof(
      fc.constantFrom(...TYPED_ARRAYS.filter((Kind) => Kind !== Float64Array)).map((Kind) => new Kind(count(field))),
      fc.constant(null).map(() => new Uint8Array(count(field) * 8)),
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: count(field), maxLength: count(field) }),
    );
  };
  return fc.tuple(gradients(shape), fc.nat(2), fc.constantFrom(...fields)).chain(([base, at, field]) => flawed(field).map((value) => {
    if (field === 'computeMs') return encode({ ...base, computeMs: value });
    const blocks = [...(base.blocks as Fields[])];
    const i = at % blocks.length;
    blocks[i] = { ...blocks[i], [field]: value };
    return encode({ ...base, blocks });
  }));
}

const failureFamily = fc.tuple(failure, mutations(['code', 'message'], (key) => fc.oneof(
  fc.string({ minLength: key === 'code' ? 41 : 4001, maxLength: key === 'code' ? 60 : 4100 }), junk)))
  .map(([base, changes]) => encode(mutate(base, changes)));

// ---- byte-level damage --------------------------------------------------------------------------------------

/** A uniformly random fraction in [0, 1), to place damage anywhere in a frame (fc.double is uniform over doubles, not values). */
const anywhere = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((n) => n / 2 ** 30);

const truncatedFamily = (shape: JobShape) => fc.tuple(wellFormed(shape), anywhere)
  .map(([message, at]) => { const whole = encode(message); return whole.subarray(0, Math.floor(at * whole.length)); });

const flippedFamily = (shape: JobShape) => fc.tuple(wellFormed(shape), fc.array(fc.tuple(anywhere, fc.nat(255)), { minLength: 1, maxLength: 4 }))
  .map(([message, flips]) => {
    const frame = Uint8Array.from(encode(message));
    for (const [at, value] of flips) frame[Math.floor(at * frame.length)] = value;
    return frame;
  });

const trailingFamily = (shape: JobShape) => fc.tuple(wellFormed(shape), fc.uint8Array({ minLength: 1, maxLength: 16 }))
  .map(([message, tail]) => bytes(encode(message), tail));

const randomBytesFamily = fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 48 }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) });

/** Extension types msgpackr gives meaning to (BigInt, Error, structured-clone ids and pointers, records, Set, typed arrays, RegExp, bundles, Date). */
const EXT_TYPES = [0x00, 0x42, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78, 0x62, 0xff];

/** Plausible msgpack: a random walk over type headers, length prefixes, extension types and payload bytes. */
const tokenSoupFamily = fc.array(fc.oneof(
  fc.integer({ min: 0x80, max: 0x9f }).map((b) => [b]), // fixmap, fixarray
  fc.tuple(fc.integer({ min: 0xa0, max: 0xbf }), fc.string({ maxLength: 31 })).map(([b, s]) => [b, ...Buffer.from(s).subarray(0, b - 0xa0)]),
  fc.integer({ min: 0xc0, max: 0xff }).map((b) => [b]), // any header byte at all
  fc.integer({ min: 0x40, max: 0x7f }).map((b) => [b]), // record references
  fc.tuple(fc.constantFrom(0xd4, 0xd5, 0xd6, 0xd7, 0xd8), fc.constantFrom(...EXT_TYPES)).map(([h, t]) => [h, t]),
  fc.tuple(fc.constantFrom(0xc7, 0xc8, 0xc9), fc.constantFrom(...EXT_TYPES), fc.nat(40)).map(([h, t, n]) => (h === 0xc7 ? [h, n, t] : h === 0xc8 ? [h, ...u16(n), t] : [h, ...u32(n), t])),
  fc.tuple(fc.constantFrom(0xc4, 0xd9), fc.nat(255)).map(([h, n]) => [h, n]),
  fc.tuple(fc.constantFrom(0xc5, 0xda, 0xdc, 0xde), fc.nat(0xffff)).map(([h, n]) => [h, ...u16(n)]),
  fc.tuple(fc.constantFrom(0xc6, 0xdb, 0xdd, 0xdf), fc.nat(0xffffffff)).map(([h, n]) => [h, ...u32(n)]),
  fc.tuple(fc.constant(0x74), fc.nat(20)).map(([t, code]) => [0xc7, 9, t, code, 1, 2, 3, 4, 5, 6, 7, 8]), // a typed array of 8 bytes, any kind code
  fc.uint8Array({ maxLength: 12 }).map((raw) => [...raw]),
  fc.constantFrom(...[{ type: 'hello' }, 'hello', 'gradients', 'type', 'v', 'blocks', 'nablaW', 1].map((value) => [...encode(value)])),
), { minLength: 1, maxLength: 24 }).map((tokens) => Uint8Array.from(tokens.flat()));

/** Headers claiming up to 4 GiB of string, binary, list, map or extension, followed by very little. */
const HUGE_HEADERS: Array<(n: number) => number[]> = [
  (n) => [0xc6, ...u32(n)], (n) => [0xdb, ...u32(n)], (n) => [0xdd, ...u32(n)], (n) => [0xdf, ...u32(n)],
  (n) => [0xc9, ...u32(n), 0x74, 8], (n) => [0xc9, ...u32(n), 0x42], (n) => [0xc9, ...u32(n), 0x62, ...u32(n)],
  (n) => [0xc5, ...u16(n)], (n) => [0xda, ...u16(n)], (n) => [0xdc, ...u16(n)], (n) => [0xde, ...u16(n)], (n) => [0xc8, ...u16(n), 0x74],
];
const hugeLength = fc.oneof(fc.constantFrom(2 ** 31, 2 ** 31 - 1, 2 ** 31 + 1, 2 ** 32 - 1, 0xffff, 0x8000), fc.integer({ min: 2 ** 16, max: 2 ** 32 - 1 }));

/** A map whose last value is `tail` (raw bytes), after `fields` encoded normally. */
function mapEndingWith(fields: Fields, lastKey: string, tail: Uint8Array): Uint8Array {
  const entries = Object.entries(fields).filter(([key]) => key !== lastKey);
  const parts = entries.flatMap(([key, value]) => [encode(key), encode(value)]);
  return bytes([0x80 + entries.length + 1], ...parts, encode(lastKey), tail);
}

function hugeHeaderFamily(shape: JobShape) {
  const header = fc.tuple(fc.nat(HUGE_HEADERS.length - 1), hugeLength, fc.uint8Array({ maxLength: 16 })).map(([which, n, rest]) => bytes(HUGE_HEADERS[which](n), rest));
  const nested = fc.tuple(fc.oneof<fc.Arbitrary<Fields>[]>(hello, gradients(shape)), header, fc.nat(), fc.nat()).map(([message, tail, k, inBlock]) => {
    const keys = Object.keys(message);
    if (message.type === 'gradients' && inBlock % 2 === 0) { // deep inside: a block's nablaW, nablaB or cost
      const blockKeys = ['nablaW', 'nablaB', 'cost', 'level'];
      const inner = mapEndingWith((message.blocks as Fields[])[0], blockKeys[k % blockKeys.length], tail);
      return mapEndingWith(message, 'blocks', bytes([0x91], inner));
    }
    return mapEndingWith(message, keys[k % keys.length], tail);
  });
  return fc.oneof(header, nested);
}

/** Lists or maps nested up to 200,000 deep: a recursive decoder must fail cleanly, not overflow the process. */
const deepNestingFamily = fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.constantFrom([0x91], [0x81, 0xa1, 0x61], [0xdc, 0, 1]), fc.boolean())
  .map(([depth, opener, isClosed]) => {
    const frame = new Uint8Array(depth * opener.length + (isClosed ? 1 : 0));
    for (let i = 0; i < depth; i++) frame.set(opener, i * opener.length);
    if (isClosed) frame[frame.length - 1] = 0xc0;
    return frame;
  });

const textFamily = fc.oneof(
  fc.string({ maxLength: 200 }), fc.constant(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'text', kernel: 'js' })),
  fc.string({ maxLength: 64, unit: 'binary' }),
).map((text) => Buffer.from(text, 'utf8') as Uint8Array);
const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((raw) => !isUtf8(raw));

// ---- the generator --------------------------------------------------------------------------------------------

const context = fc.constantFrom<Context>('fresh', 'greeted');

const binary = (family: string, payload: fc.Arbitrary<Uint8Array>, weight: number) => ({
  weight, arbitrary: fc.tuple(payload, context).map(([p, c]): FuzzFrame => described({ family, context: c, payload: p, isBinary: true })),
});

/** One hostile frame, drawn from every family; the weights are roughly the share of frames each family gets. */
export function fuzzFrame(shape: JobShape): fc.Arbitrary<FuzzFrame> {
  return fc.oneof(
    binary('random bytes', randomBytesFamily, 11),
    binary('msgpack token soup', tokenSoupFamily, 10),
    binary('truncated message', truncatedFamily(shape), 12),
    binary('byte-flipped message', flippedFamily(shape), 8),
    binary('trailing bytes', trailingFamily(shape), 3),
    binary('wrong type or v', envelopeFamily(shape), 12),
    binary('hello fields', helloFamily, 8),
    binary('gradients fields', gradientsFamily(shape), 10),
    binary('non-finite number', singleFlawFamily(shape, 'non-finite number'), 4),
    binary('wrong length', singleFlawFamily(shape, 'wrong length'), 3),
    binary('wrong array kind', singleFlawFamily(shape, 'wrong array kind'), 3),
    binary('failure fields', failureFamily, 3),
    binary('huge length header', hugeHeaderFamily(shape), 6),
    binary('deep nesting', deepNestingFamily, 1),
    binary('well-formed message', wellFormed(shape).map(encode), 3),
    { weight: 2, arbitrary: fc.tuple(textFamily, context).map(([p, c]) => described({ family: 'text frame', context: c, payload: p, isBinary: false })) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(invalidUtf8, textFamily), context).map(([p, c]) => described({ family: 'text frame', context: c, payload: p, isBinary: false })) },
    { weight: 1, arbitrary: forgeryFamily(shape) },
  );
}

/**
 * Frames at the payload limit: four a little over it (ws must close 1009 on the header), and two exactly at it, which
 * ws lets through and the protocol judges: a bare binary blob (refused) and a hello padded with an extra field (accepted).
 */
export function sizeLimitFrames(maxPayload: number): fc.Arbitrary<FuzzFrame[]> {
  const over = fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.constantFrom('zeros', 'noise', 'hello then zeros'), fc.nat(), context)
    .map(([excess, fill, seed, c]) => {
      const frame = new Uint8Array(maxPayload + excess);
      if (fill === 'noise') for (let i = 0, x = seed | 1; i < frame.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; frame[i] = x & 255; }
      if (fill === 'hello then zeros') frame.set(encode({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'big', kernel: 'js' }));
      return described({ family: 'oversized', context: c, payload: frame, isBinary: true });
    });
  const blob = bytes([0xc6, ...u32(maxPayload - 5)], new Uint8Array(maxPayload - 5));
  const padded = (length: number) => encode({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'at-limit', kernel: 'js', padding: new Uint8Array(length) });
  const helloAtLimit = padded(maxPayload - (padded(1 << 17).length - (1 << 17)));
  return fc.tuple(over, over, over, over, context).map(([a, b, c, d, at]) => [a, b, c, d,
    described({ family: 'at the size limit', context: at, payload: blob, isBinary: true }),
    described({ family: 'at the size limit', context: 'fresh', payload: helloAtLimit, isBinary: true })]);
}

/** A result for the shard the connection was actually given, with a version from the future or blocks that cannot tile it. */
function forgeryFamily(shape: JobShape): fc.Arbitrary<FuzzFrame> {
  // Chunks per mini-batch are at most 8 here, so no block of a real shard is above level 3.
  const foreign = fc.array(block(shape), { minLength: 1, maxLength: 3 }).chain((blocks) => fc.integer({ min: 4, max: 31 }).map((level) => [{ ...blocks[0], level }, ...blocks.slice(1)]));
  return fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.array(block(shape), { minLength: 1, maxLength: 3 })).map(([versionAhead, blocks]): Forgery => ({ kind: 'stale-version', versionAhead, blocks })),
    foreign.map((blocks): Forgery => ({ kind: 'foreign-blocks', blocks })),
  ).map((forgery) => described({ family: 'forged result for a real shard', context: 'greeted', payload: new Uint8Array(0), isBinary: true, forgery }));
}

/** The frame that answers a real shard tagged `tag`. */
export function forgedFrame(forgery: Forgery, tag: { step: number; shardId: number; version: number }): Uint8Array {
  const version = forgery.kind === 'stale-version' ? tag.version + forgery.versionAhead : tag.version;
  return encode({ type: 'gradients', v: PROTOCOL_VERSION, step: tag.step, shardId: tag.shardId, version, computeMs: 1, blocks: forgery.blocks });
}

/** Gives a frame a short printable form, for fast-check's counterexamples. */
function described(frame: FuzzFrame): FuzzFrame {
  return Object.defineProperty(frame, fc.toStringMethod, { value: () => describeFrame(frame) });
}

export function describeFrame(frame: FuzzFrame): string {
  const head = Buffer.from(frame.payload.subarray(0, 96)).toString('hex');
  const more = frame.payload.length > 96 ? `… (${frame.payload.length} bytes)` : '';
  return `${frame.family} [${frame.context}, ${frame.isBinary ? 'binary' : 'text'}] ${frame.forgery ? JSON.stringify({ kind: frame.forgery.kind }) : `0x${head}${more}`}`;
}

// ---- the model: what the coordinator must answer ------------------------------------------------------------

const refused = (code: FailureCode, mention: string): Verdict => ({ kind: 'refused', defects: [{ code, mention }] });

export function isUtf8(raw: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(raw);
    return true;
  } catch {
    return false;
  }
}

/** A string as it reads after a round trip through UTF-8: lone surrogates become U+FFFD. */
const afterUtf8 = (text: string): string => text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** How the coordinator must answer `frame`, derived from the protocol's rules (shared/protocol/validate.ts documents them). */
export function verdictOf(frame: FuzzFrame, shape: JobShape, maxPayload: number): Verdict {
  if (frame.payload.length > maxPayload) return { kind: 'too-big' };
  if (frame.forgery) return refused('bad-field', frame.forgery.kind === 'stale-version' ? 'were computed on parameters v' : 'needs blocks');
  if (!frame.isBinary) return isUtf8(frame.payload) ? refused('malformed', 'text frames are not part of the protocol') : { kind: 'bad-utf8' };
  let message: unknown;
  const undecodable = { code: 'malformed' as const, mention: `undecodable msgpack frame of ${frame.payload.length} bytes` };
  try {
    message = packr.unpack(frame.payload);
  } catch (error) {
    // A shared-memory reference (extension 0x62) has a refusal of its own: no fuzzed link has a lane. (The product's
    // codec, if loaded in this process, registers its own reader for 0x62, which refuses with the same words.)
    if (error instanceof SharedMemoryReference || (error as Error).message.includes(noLane.mention)) return { kind: 'refused', defects: [noLane] };
    // Nesting a few thousand deep overflows the stack, at a depth that differs between processes: the coordinator
    // may still decode what overflowed here (and then find no map, or no type).
    if (!isStackOverflow(error)) return { kind: 'refused', defects: [undecodable] };
    return { kind: 'refused', defects: [undecodable, { code: 'malformed', mention: 'must be a msgpack map' }, { code: 'malformed', mention: 'no string "type"' }] };
  }
  const verdict = verdictOfMessage(message, frame.context, shape);
  // …and may overflow on what decoded here.
  return verdict.kind === 'refused' && nestingDepth(message) > 1000 ? { kind: 'refused', defects: [...verdict.defects, undecodable] } : verdict;
}

const isStackOverflow = (error: unknown): boolean => error instanceof RangeError && /call stack/.test(error.message);

function nestingDepth(value: unknown): number {
  let depth = 0;
  for (let node = value; typeof node === 'object' && node !== null; depth++) {
    const children = Object.values(node);
    if (children.length === 0 || ArrayBuffer.isView(node)) return depth + 1;
    node = children[0];
  }
  return depth;
}

function verdictOfMessage(raw: unknown, context: Context, shape: JobShape): Verdict {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || ArrayBuffer.isView(raw)) return refused('malformed', 'must be a msgpack map');
  const m = raw as Fields;
  if (typeof m.type !== 'string') return refused('malformed', 'no string "type"');
  if (m.v !== PROTOCOL_VERSION) return refused('version-mismatch', typeof m.v === 'number' ? `peer speaks protocol v${m.v},` : 'an unknown version');
  const firstHello = refused('unexpected', `the first message must be "hello", got "${m.type}"`);
  let defects: Defect[];
  switch (m.type) {
    case 'hello':
      defects = [
        ...(m.role === 'worker' || m.role === 'monitor' ? [] : [{ code: 'bad-field' as const, mention: 'hello.role must be' }]),
        ...stringDefects(m, 'name', 200), ...stringDefects(m, 'kernel', 40),
      ];
      if (defects.length > 0) return { kind: 'refused', defects };
      return context === 'fresh' ? { kind: 'accepted' } : refused('unexpected', 'hello sent twice');
    case 'gradients':
      defects = gradientsDefects(m, shape);
      if (defects.length > 0) return { kind: 'refused', defects };
      if (context === 'fresh') return firstHello;
      // Dropped: no shard of this connection has this (step, shardId). Generated results carry FAR_STEP; a mutated or
      // byte-flipped one may not, but matching the one shard this connection may hold is a 1-in-2^50-odd chance.
      return { kind: 'accepted' };
    case 'failure':
      defects = [...stringDefects(m, 'code', 40), ...stringDefects(m, 'message', 4000)];
      if (defects.length > 0) return { kind: 'refused', defects };
      return context === 'fresh' ? firstHello : { kind: 'closes-normally' };
    default:
      return refused('unexpected', `the coordinator does not accept "${afterUtf8(m.type.slice(0, 40))}" messages`);
  }
}

function stringDefects(m: Fields, name: string, maxLength: number): Defect[] {
  const value = m[name];
  if (typeof value !== 'string') return [{ code: 'bad-field', mention: `${name} must be a string` }];
  return value.length > maxLength ? [{ code: 'bad-field', mention: `${name} is ${value.length} characters` }] : [];
}

function integerDefects(m: Fields, name: string, min: number, max: number): Defect[] {
  const value = m[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [{ code: 'bad-field', mention: `${name} must be an integer` }];
  return value < min || value > max ? [{ code: 'bad-field', mention: `${name} = ${value} is outside` }] : [];
}

function numberDefects(m: Fields, name: string, where: string): Defect[] {
  const value = m[name];
  if (typeof value !== 'number') return [{ code: 'bad-field', mention: `${name} must be a number` }];
  if (!Number.isFinite(value)) return [{ code: 'not-finite', mention: `${name} is ${value}` }];
  return name === 'cost' && value < 0 ? [{ code: 'bad-field', mention: `${where}.cost is negative` }] : [];
}

function float64Defects(m: Fields, name: string, expected: number): Defect[] {
  const value = m[name];
  if (!(value instanceof Float64Array)) return [{ code: 'bad-field', mention: `${name} must be a Float64Array` }];
  if (value.length !== expected) return [{ code: 'bad-length', mention: `${name} has ${value.length} values, expected ${expected}` }];
  const at = value.findIndex((x) => !Number.isFinite(x));
  return at >= 0 ? [{ code: 'not-finite', mention: `${name}[${at}] is ${value[at]}` }] : [];
}

function gradientsDefects(m: Fields, shape: JobShape): Defect[] {
  const blocks = m.blocks;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 64) return [{ code: 'bad-field', mention: 'blocks must be a list of 1 to 64 block sums' }];
  const defects = [
    ...integerDefects(m, 'step', 0, Number.MAX_SAFE_INTEGER), ...integerDefects(m, 'shardId', 0, Number.MAX_SAFE_INTEGER),
    ...integerDefects(m, 'version', 0, Number.MAX_SAFE_INTEGER), ...numberDefects(m, 'computeMs', 'computeMs'),
  ];
  blocks.forEach((b: unknown, i) => {
    const where = `blocks[${i}]`;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) { defects.push({ code: 'bad-field', mention: `${where} must be a map` }); return; }
    const fields = b as Fields;
    defects.push(
      ...numberDefects(fields, 'cost', where), ...integerDefects(fields, 'level', 0, 31), ...integerDefects(fields, 'index', 0, 2 ** 20),
      ...float64Defects(fields, 'nablaW', shape.weightCount), ...float64Defects(fields, 'nablaB', shape.biasCount),
    );
  });
  return defects;
}
