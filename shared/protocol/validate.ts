/**
 * Validation of decoded frames: everything is `unknown` until proven to be a well-formed message of this protocol
 * version, with array lengths matching the network layout and every number finite.
 */
import { DTYPES, type Dtype, type Floats } from '../kernel/dtype.js';
import { elementwise } from '../kernel/elementwise.js';
import { COST_NAMES } from '../network/cost.js';
import type { ParamLayout } from '../network/layout.js';
import { MAX_LAYER_SIZE } from '../network/layout.js';
import { fail } from './errors.js';
import type { ShmOffer } from './shm.js';
import {
  PROTOCOL_VERSION, type BlockSum, type FailureCode, type Gradients, type PrefetchedSamples, type SelfUpdate, type Shard, type ShardData,
  type ToCoordinator, type ToWorker,
} from './messages.js';

type Raw = Record<string, unknown>;

/** Largest mini-batch (and so shard) we accept in one message. */
export const MAX_BATCH = 1 << 20;

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}

/** A decoded msgpack map (not an array, a typed array or a scalar). */
const isMap = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);

function envelope(raw: unknown): Raw & { type: string } {
  if (!isMap(raw)) fail('malformed', `a message must be a msgpack map, got ${kindOf(raw)}`);
  const message = raw as Raw;
  if (typeof message.type !== 'string') fail('malformed', `message has no string "type" (got ${kindOf(message.type)})`);
  if (message.v !== PROTOCOL_VERSION) {
    const theirs = typeof message.v === 'number' ? `v${message.v}` : `an unknown version (${kindOf(message.v)})`;
    fail('version-mismatch', `peer speaks protocol ${theirs}, this side speaks v${PROTOCOL_VERSION}; run the same nabla version on both sides`);
  }
  return message as Raw & { type: string };
}

function integer(raw: Raw, name: string, min: number, max: number): number {
  const value = raw[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) fail('bad-field', `${name} must be an integer, got ${kindOf(value)}`);
  if (value < min || value > max) fail('bad-field', `${name} = ${value} is outside ${min}..${max}`);
  return value;
}

function finiteNumber(raw: Raw, name: string): number {
  const value = raw[name];
  if (typeof value !== 'number') fail('bad-field', `${name} must be a number, got ${kindOf(value)}`);
  if (!Number.isFinite(value)) fail('not-finite', `${name} is ${value}`);
  return value;
}

function string(raw: Raw, name: string, maxLength = 200): string {
  const value = raw[name];
  if (typeof value !== 'string') fail('bad-field', `${name} must be a string, got ${kindOf(value)}`);
  if (value.length > maxLength) fail('bad-field', `${name} is ${value.length} characters, at most ${maxLength} allowed`);
  return value;
}

function requireFinite(values: Float64Array | Float32Array, name: string): void {
  const bad = elementwise.firstNonFinite(values);
  if (bad >= 0) fail('not-finite', `${name}[${bad}] is ${values[bad]}`);
}

/** An array of the job's compute type (parameters, gradients) holding exactly `expected` finite values. */
function floatsField(raw: Raw, name: string, expected: number, dtype: Dtype): Floats {
  const value = raw[name];
  const Type = dtype === 'float32' ? Float32Array : Float64Array;
  if (!(value instanceof Type)) fail('bad-field', `${name} must be a ${Type.name} (the job computes in ${dtype}), got ${kindOf(value)}`);
  return finiteOfLength(value, name, expected);
}

function finiteOfLength<F extends Floats>(value: F, name: string, expected: number): F {
  if (value.length !== expected) fail('bad-length', `${name} has ${value.length} values, expected ${expected}`);
  requireFinite(value, name);
  return value;
}

/** A field that must be one of `choices`; `absent` is its value when the field is missing (none: it is required). */
function choiceField<T extends string>(raw: Raw, name: string, choices: readonly T[], absent?: T): T {
  const value = raw[name] ?? absent;
  if (!(choices as readonly unknown[]).includes(value)) fail('bad-field', `${name} must be one of ${choices.join(', ')}, got ${kindOf(value)}`);
  return value as T;
}

function sizesField(raw: Raw): number[] {
  const sizes = raw.sizes;
  if (!Array.isArray(sizes) || sizes.length < 2 || sizes.length > 64) fail('bad-field', `sizes must list 2 to 64 layer sizes, got ${kindOf(sizes)}`);
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_LAYER_SIZE) fail('bad-field', `sizes holds ${String(size)}, expected integers 1..${MAX_LAYER_SIZE}`);
  }
  return sizes as number[];
}

/** An optional shared-memory offer (shm.ts checks the directory itself before opening anything). */
function shmOffer(raw: Raw): { shm?: ShmOffer } {
  const offer = raw.shm;
  if (offer === undefined) return {};
  if (!isMap(offer)) fail('bad-field', `shm must be a map, got ${kindOf(offer)}`);
  return { shm: { dir: string(offer, 'dir', 200), nonce: string(offer, 'nonce', 64) } };
}

/** Optional: the fingerprint of how the worker's kernel rounds (rounding-probe.ts), 16 lower-case hex digits. */
function rounding(raw: Raw): { rounding?: string } {
  if (raw.rounding === undefined) return {};
  if (typeof raw.rounding !== 'string' || !/^[0-9a-f]{16}$/.test(raw.rounding)) {
    fail('bad-field', `rounding must be 16 lower-case hex digits, got ${typeof raw.rounding === 'string' ? `"${raw.rounding.slice(0, 40)}"` : kindOf(raw.rounding)}`);
  }
  return { rounding: raw.rounding };
}

/** Optional: the worker can apply a step's update itself (messages.ts, Shard.update). */
function appliesUpdates(raw: Raw): { appliesUpdates?: boolean } {
  if (raw.appliesUpdates === undefined) return {};
  if (typeof raw.appliesUpdates !== 'boolean') fail('bad-field', `appliesUpdates must be true or false, got ${kindOf(raw.appliesUpdates)}`);
  return { appliesUpdates: raw.appliesUpdates };
}

function failureFields(raw: Raw): { code: FailureCode; message: string } {
  return { code: string(raw, 'code', 40) as FailureCode, message: string(raw, 'message', 4000) };
}

function blockSum(block: unknown, layout: ParamLayout, dtype: Dtype, where: string): BlockSum {
  if (!isMap(block)) fail('bad-field', `${where} must be a map, got ${kindOf(block)}`);
  const cost = finiteNumber(block, 'cost');
  if (cost < 0) fail('bad-field', `${where}.cost is negative (${cost})`);
  return {
    level: integer(block, 'level', 0, 31),
    index: integer(block, 'index', 0, MAX_BATCH),
    cost,
    nablaW: floatsField(block, 'nablaW', layout.weightCount, dtype),
    nablaB: floatsField(block, 'nablaB', layout.biasCount, dtype),
  };
}

function gradients(raw: Raw, layout: ParamLayout, dtype: Dtype): Gradients {
  const blocks = raw.blocks;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 64) {
    fail('bad-field', `blocks must be a list of 1 to 64 block sums, got ${kindOf(blocks)}`);
  }
  return {
    type: 'gradients',
    v: PROTOCOL_VERSION,
    step: integer(raw, 'step', 0, Number.MAX_SAFE_INTEGER),
    shardId: integer(raw, 'shardId', 0, Number.MAX_SAFE_INTEGER),
    version: integer(raw, 'version', 0, Number.MAX_SAFE_INTEGER),
    computeMs: Math.max(0, finiteNumber(raw, 'computeMs')),
    ...(raw.dataWaitMs === undefined ? {} : { dataWaitMs: Math.max(0, finiteNumber(raw, 'dataWaitMs')) }),
    // Any float64: an overflowed sum is infinite or NaN on both sides alike.
    ...(raw.paramsSum === undefined ? {} : { paramsSum: typeof raw.paramsSum === 'number' ? raw.paramsSum : fail('bad-field', `paramsSum must be a number, got ${kindOf(raw.paramsSum)}`) }),
    blocks: blocks.map((block, i) => blockSum(block, layout, dtype, `blocks[${i}]`)),
  };
}

/** What validating a frame needs to know of the job: the network's layout and the type its arrays travel in. */
export interface WireJob {
  readonly layout: ParamLayout;
  readonly dtype: Dtype;
}

/** Validates a frame arriving at the coordinator of `job`. */
export function parseToCoordinator(raw: unknown, job: WireJob): ToCoordinator {
  const message = envelope(raw);
  switch (message.type) {
    case 'hello':
      if (message.role !== 'worker' && message.role !== 'monitor') {
        const got = typeof message.role === 'string' ? `"${message.role.slice(0, 40)}"` : kindOf(message.role);
        fail('bad-field', `hello.role must be "worker" or "monitor", got ${got}`);
      }
      return {
        type: 'hello', v: PROTOCOL_VERSION, role: message.role, name: string(message, 'name'), kernel: string(message, 'kernel', 40), ...rounding(message),
        ...shmOffer(message), ...appliesUpdates(message),
      };
    case 'gradients':
      return gradients(message, job.layout, job.dtype);
    case 'failure':
      return { type: 'failure', v: PROTOCOL_VERSION, ...failureFields(message) };
    default:
      return fail('unexpected', `the coordinator does not accept "${message.type.slice(0, 40)}" messages`);
  }
}

function inputArray(raw: Raw, expected: number): ShardData['x'] {
  const x = raw.x;
  const ok = x instanceof Float64Array || x instanceof Float32Array || x instanceof Uint8Array || x instanceof Uint16Array;
  if (!ok) fail('bad-field', `x must be a Float64Array, Float32Array, Uint8Array or Uint16Array, got ${kindOf(x)}`);
  if (x.length !== expected) fail('bad-length', `x has ${x.length} values, expected ${expected}`);
  if (x instanceof Float64Array || x instanceof Float32Array) {
    requireFinite(x, 'x');
  }
  return x;
}

type RowsOf = (m: number, chunks: number, start: number, end: number) => number;

function chunkRange(raw: Raw) {
  const batchSize = integer(raw, 'batchSize', 1, MAX_BATCH);
  const chunks = integer(raw, 'chunks', 1, batchSize);
  const chunkStart = integer(raw, 'chunkStart', 0, chunks - 1);
  const chunkEnd = integer(raw, 'chunkEnd', chunkStart + 1, chunks);
  return { batchSize, chunks, chunkStart, chunkEnd };
}

/** The samples of a chunk range: inputs of the right type and length, labels in range or finite target vectors. */
function shardData(raw: Raw, layout: ParamLayout, rows: number): ShardData {
  const nIn = layout.sizes[0];
  const nOut = layout.sizes[layout.sizes.length - 1];
  const xDivisor = finiteNumber(raw, 'xDivisor');
  if (xDivisor <= 0) fail('bad-field', `xDivisor must be positive, got ${xDivisor}`);
  let labels: Uint16Array | null = null;
  let y: Float64Array | null = null;
  if (raw.labels !== null && raw.labels !== undefined) {
    if (!(raw.labels instanceof Uint16Array)) fail('bad-field', `labels must be a Uint16Array, got ${kindOf(raw.labels)}`);
    labels = raw.labels;
    if (labels.length !== rows) fail('bad-length', `labels has ${labels.length} values, expected ${rows}`);
    for (let i = 0; i < rows; i++) if (labels[i] >= nOut) fail('bad-field', `labels[${i}] = ${labels[i]} but the output layer has ${nOut} neurons`);
  } else {
    y = floatsField(raw, 'y', rows * nOut, 'float64') as Float64Array;
  }
  return { x: inputArray(raw, rows * nIn), xDivisor, labels, y };
}

function shard(raw: Raw, layout: ParamLayout, rowsOf: RowsOf): Shard {
  const range = chunkRange(raw);
  const version = integer(raw, 'version', 0, Number.MAX_SAFE_INTEGER);
  const tag = {
    type: 'shard' as const, v: PROTOCOL_VERSION,
    step: integer(raw, 'step', 0, Number.MAX_SAFE_INTEGER),
    shardId: integer(raw, 'shardId', 0, Number.MAX_SAFE_INTEGER),
    version,
    ...range,
    ...selfUpdate(raw, range, version),
  };
  if (raw.x === null) return { ...tag, x: null, xDivisor: null, labels: null, y: null };
  return { ...tag, ...shardData(raw, layout, rowsOf(range.batchSize, range.chunks, range.chunkStart, range.chunkEnd)) };
}

/** A shard's (or prefetched samples') optional update rule: only for the whole mini-batch, for a later parameter version. */
function selfUpdate(raw: Raw, range: { chunks: number; chunkStart: number; chunkEnd: number }, version: number): { update?: SelfUpdate } {
  const update = raw.update;
  if (update === undefined) return {};
  if (!isMap(update)) fail('bad-field', `update must be a map, got ${kindOf(update)}`);
  if (range.chunkStart !== 0 || range.chunkEnd !== range.chunks) {
    fail('bad-field', `update came with chunks ${range.chunkStart}..${range.chunkEnd} of ${range.chunks}; only a shard of the whole mini-batch can apply its update`);
  }
  const eta = finiteNumber(update, 'eta');
  const lambda = finiteNumber(update, 'lambda');
  if (eta <= 0 || lambda < 0) fail('bad-field', `update needs eta > 0 and lambda ≥ 0, got eta ${eta}, lambda ${lambda}`);
  return {
    update: {
      eta, lambda, n: integer(update, 'n', 1, Number.MAX_SAFE_INTEGER),
      version: integer(update, 'version', version + 1, Number.MAX_SAFE_INTEGER),
    },
  };
}

/**
 * The arrays of a params frame: of the job's type, or in a float32 job also float64 (the master parameters, for a
 * worker that applies updates itself); both of one type.
 */
function paramArrays(raw: Raw, layout: ParamLayout, dtype: Dtype): { weights: Floats; biases: Floats } {
  if (dtype === 'float32' && raw.weights instanceof Float64Array && raw.biases instanceof Float64Array) {
    return { weights: finiteOfLength(raw.weights, 'weights', layout.weightCount), biases: finiteOfLength(raw.biases, 'biases', layout.biasCount) };
  }
  return { weights: floatsField(raw, 'weights', layout.weightCount, dtype), biases: floatsField(raw, 'biases', layout.biasCount, dtype) };
}

function prefetchedSamples(raw: Raw, layout: ParamLayout, rowsOf: RowsOf): PrefetchedSamples {
  const range = chunkRange(raw);
  const step = integer(raw, 'step', 0, Number.MAX_SAFE_INTEGER);
  return {
    type: 'samples', v: PROTOCOL_VERSION,
    step,
    shardId: integer(raw, 'shardId', 0, Number.MAX_SAFE_INTEGER),
    ...range,
    // The parameters of step s are version s: its update makes a later one.
    ...selfUpdate(raw, range, step),
    ...shardData(raw, layout, rowsOf(range.batchSize, range.chunks, range.chunkStart, range.chunkEnd)),
  };
}

/**
 * Validates a frame arriving at a worker. Before the welcome the job is unknown (null): only welcome and failure
 * are accepted then. `rowsOf` maps a chunk range to its sample count (shared/reduction).
 */
export function parseToWorker(raw: unknown, job: WireJob | null, rowsOf: RowsOf): ToWorker {
  const message = envelope(raw);
  if (message.type === 'failure') return { type: 'failure', v: PROTOCOL_VERSION, ...failureFields(message) };
  if (message.type === 'done') return { type: 'done', v: PROTOCOL_VERSION, reason: string(message, 'reason', 4000) };
  if (message.type === 'welcome') {
    const sizes = sizesField(message);
    let weightCount = 0, biasCount = 0;
    for (let l = 0; l + 1 < sizes.length; l++) { weightCount += sizes[l] * sizes[l + 1]; biasCount += sizes[l + 1]; }
    // An absent dtype is float64: what coordinators before --dtype send.
    const welcomeDtype = choiceField(message, 'dtype', DTYPES, 'float64');
    return {
      type: 'welcome', v: PROTOCOL_VERSION,
      workerId: string(message, 'workerId', 100), sizes, cost: choiceField(message, 'cost', COST_NAMES), dtype: welcomeDtype,
      pingIntervalMs: integer(message, 'pingIntervalMs', 1, 3_600_000),
      version: integer(message, 'version', 0, Number.MAX_SAFE_INTEGER),
      weights: floatsField(message, 'weights', weightCount, welcomeDtype),
      biases: floatsField(message, 'biases', biasCount, welcomeDtype),
      ...shmOffer(message),
    };
  }
  if (!job) return fail('unexpected', `"${message.type.slice(0, 40)}" arrived before the welcome`);
  const { layout, dtype } = job;
  switch (message.type) {
    case 'params':
      return {
        type: 'params', v: PROTOCOL_VERSION,
        version: integer(message, 'version', 0, Number.MAX_SAFE_INTEGER),
        ...paramArrays(message, layout, dtype),
      };
    case 'shard':
      return shard(message, layout, rowsOf);
    case 'samples':
      return prefetchedSamples(message, layout, rowsOf);
    default:
      return fail('unexpected', `a worker does not accept "${message.type.slice(0, 40)}" messages`);
  }
}
