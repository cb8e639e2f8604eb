/**
 * Decoding and validation of the frames a monitor receives: a `status` snapshot is `unknown` until every field the
 * monitor reads is proven to have its type (arrays are arrays, numbers are finite, strings are bounded).
 */
import { Packr } from 'msgpackr';
import { fail, ProtocolError } from './errors.js';
import { PROTOCOL_VERSION, type FailureCode, type ToMonitor } from './messages.js';
import type { StatusSnapshot, WorkerStatus } from './status.js';
import { kindOf } from './validate.js';

type Raw = Record<string, unknown>;

/** Same configuration as codec.ts (whose codec is not exported); codec round-trip tests keep the two in step. */
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

/** Bounds on what one snapshot may hold, so a hostile peer cannot make us draw millions of rows. */
const MAX_WORKERS = 4096;
const MAX_HISTORY = 100_000;
const MAX_EVENTS = 1000;

/** Decodes and validates a frame arriving at a monitor; any defect is a ProtocolError. */
export function decodeToMonitor(bytes: Uint8Array): ToMonitor {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (error) {
    return fail('malformed', `undecodable msgpack frame of ${bytes.length} bytes (${(error as Error).message})`);
  }
  try {
    return parseToMonitor(raw);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    return fail('malformed', `unreadable frame (${(error as Error).message})`);
  }
}

/** Validates a decoded frame as a message a monitor may receive. */
export function parseToMonitor(raw: unknown): ToMonitor {
  const message = record(raw, 'message');
  const type = message.type;
  if (typeof type !== 'string') fail('malformed', `message has no string "type" (got ${kindOf(type)})`);
  if (message.v !== PROTOCOL_VERSION) {
    const theirs = typeof message.v === 'number' ? `v${message.v}` : `an unknown version (${kindOf(message.v)})`;
    fail('version-mismatch', `coordinator speaks protocol ${theirs}, this monitor speaks v${PROTOCOL_VERSION}; run the same nabla version on both sides`);
  }
  switch (type) {
    case 'status': return { type, v: PROTOCOL_VERSION, snapshot: parseSnapshot(message.snapshot) };
    case 'done': return { type, v: PROTOCOL_VERSION, reason: string(message, 'reason', 4000) };
    case 'failure': return { type, v: PROTOCOL_VERSION, code: string(message, 'code', 40) as FailureCode, message: string(message, 'message', 4000) };
    default: return fail('unexpected', `a monitor does not expect "${type.slice(0, 40)}" messages (only status, done, failure)`);
  }
}

/** Validates a status snapshot field by field and returns a fresh object holding only the known fields. */
export function parseSnapshot(value: unknown): StatusSnapshot {
  const raw = record(value, 'snapshot');
  const progress = record(raw.progress, 'snapshot.progress');
  const throughput = record(raw.throughput, 'snapshot.throughput');
  const stepTime = record(raw.stepTime, 'snapshot.stepTime');
  const state = string(progress, 'state', 20, 'snapshot.progress');
  if (state !== 'waiting' && state !== 'training' && state !== 'done') fail('bad-field', `snapshot.progress.state must be waiting, training or done, got "${state}"`);
  return {
    timeMs: number(raw, 'timeMs', 'snapshot'),
    job: raw.job === null ? null : parseJob(raw.job),
    progress: {
      state,
      epoch: number(progress, 'epoch', 'snapshot.progress'),
      step: number(progress, 'step', 'snapshot.progress'),
      elapsedMs: number(progress, 'elapsedMs', 'snapshot.progress'),
      etaMs: progress.etaMs === null ? null : number(progress, 'etaMs', 'snapshot.progress'),
    },
    throughput: {
      samplesPerSecond: number(throughput, 'samplesPerSecond', 'snapshot.throughput'),
      stepsPerSecond: number(throughput, 'stepsPerSecond', 'snapshot.throughput'),
      history: numbers(throughput, 'history', MAX_HISTORY, 'snapshot.throughput'),
    },
    epochs: list(raw, 'epochs', MAX_HISTORY, 'snapshot').map((item, i) => {
      const epoch = record(item, `snapshot.epochs[${i}]`);
      const where = `snapshot.epochs[${i}]`;
      return {
        epoch: number(epoch, 'epoch', where),
        trainCost: number(epoch, 'trainCost', where),
        testAccuracy: epoch.testAccuracy === null ? null : number(epoch, 'testAccuracy', where),
        samplesPerSecond: number(epoch, 'samplesPerSecond', where),
      };
    }),
    costHistory: numbers(raw, 'costHistory', MAX_HISTORY, 'snapshot'),
    stepTime: {
      computeMs: number(stepTime, 'computeMs', 'snapshot.stepTime'),
      transferMs: number(stepTime, 'transferMs', 'snapshot.stepTime'),
      reduceMs: number(stepTime, 'reduceMs', 'snapshot.stepTime'),
      idleMs: number(stepTime, 'idleMs', 'snapshot.stepTime'),
    },
    workers: list(raw, 'workers', MAX_WORKERS, 'snapshot').map((item, i) => parseWorker(item, `snapshot.workers[${i}]`)),
    reference: raw.reference === null ? null : parseReference(raw.reference),
    events: list(raw, 'events', MAX_EVENTS, 'snapshot').map((item, i) => {
      const event = record(item, `snapshot.events[${i}]`);
      return { timeMs: number(event, 'timeMs', `snapshot.events[${i}]`), text: string(event, 'text', 4000, `snapshot.events[${i}]`) };
    }),
    paramHash: string(raw, 'paramHash', 200, 'snapshot'),
  };
}

function parseJob(value: unknown): NonNullable<StatusSnapshot['job']> {
  const job = record(value, 'snapshot.job');
  const where = 'snapshot.job';
  return {
    sizes: numbers(job, 'sizes', 64, where),
    batch: number(job, 'batch', where),
    eta: number(job, 'eta', where),
    epochs: number(job, 'epochs', where),
    seed: number(job, 'seed', where),
    data: string(job, 'data', 4000, where),
    kernel: string(job, 'kernel', 200, where),
    ...(job.cost === undefined ? {} : { cost: string(job, 'cost', 40, where) }),
    ...(job.lambda === undefined ? {} : { lambda: number(job, 'lambda', where) }),
    ...(job.dtype === undefined ? {} : { dtype: string(job, 'dtype', 40, where) }),
    trainSamples: number(job, 'trainSamples', where),
    testSamples: number(job, 'testSamples', where),
    stepsPerEpoch: number(job, 'stepsPerEpoch', where),
    totalSteps: number(job, 'totalSteps', where),
  };
}

function parseWorker(value: unknown, where: string): WorkerStatus {
  const worker = record(value, where);
  const state = string(worker, 'state', 20, where);
  if (state !== 'idle' && state !== 'busy') fail('bad-field', `${where}.state must be idle or busy, got "${state}"`);
  return {
    id: string(worker, 'id', 200, where),
    name: string(worker, 'name', 400, where),
    address: string(worker, 'address', 400, where),
    kernel: string(worker, 'kernel', 200, where),
    ...(worker.sharedMemory === undefined ? {} : { sharedMemory: flag(worker, 'sharedMemory', where) }),
    ...(worker.ownUpdates === undefined ? {} : { ownUpdates: flag(worker, 'ownUpdates', where) }),
    state,
    chunks: number(worker, 'chunks', where),
    samplesPerSecond: number(worker, 'samplesPerSecond', where),
    computeMs: number(worker, 'computeMs', where),
    transferMs: number(worker, 'transferMs', where),
    waitMs: number(worker, 'waitMs', where),
    bytesIn: number(worker, 'bytesIn', where),
    bytesOut: number(worker, 'bytesOut', where),
    shards: number(worker, 'shards', where),
    samples: number(worker, 'samples', where),
    heartbeatAgeMs: number(worker, 'heartbeatAgeMs', where),
  };
}

function parseReference(value: unknown): NonNullable<StatusSnapshot['reference']> {
  const reference = record(value, 'snapshot.reference');
  const where = 'snapshot.reference';
  if (typeof reference.ok !== 'boolean') fail('bad-field', `${where}.ok must be a boolean, got ${kindOf(reference.ok)}`);
  return {
    backend: string(reference, 'backend', 200, where),
    checks: number(reference, 'checks', where),
    failures: number(reference, 'failures', where),
    lastStep: number(reference, 'lastStep', where),
    lastMaxRelError: number(reference, 'lastMaxRelError', where),
    ok: reference.ok,
  };
}

function record(value: unknown, where: string): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    fail('bad-field', `${where} must be a map, got ${kindOf(value)}`);
  }
  return value as Raw;
}

function flag(raw: Raw, name: string, where: string): boolean {
  const value = raw[name];
  if (typeof value !== 'boolean') fail('bad-field', `${where}.${name} must be true or false, got ${typeof value}`);
  return value;
}

function number(raw: Raw, name: string, where = ''): number {
  const value = raw[name];
  const path = where ? `${where}.${name}` : name;
  if (typeof value !== 'number') fail('bad-field', `${path} must be a number, got ${kindOf(value)}`);
  if (!Number.isFinite(value)) fail('not-finite', `${path} is ${value}`);
  return value;
}

function string(raw: Raw, name: string, maxLength: number, where = ''): string {
  const value = raw[name];
  const path = where ? `${where}.${name}` : name;
  if (typeof value !== 'string') fail('bad-field', `${path} must be a string, got ${kindOf(value)}`);
  if (value.length > maxLength) fail('bad-field', `${path} is ${value.length} characters, at most ${maxLength} allowed`);
  return value;
}

function list(raw: Raw, name: string, maxLength: number, where: string): unknown[] {
  const value = raw[name];
  if (!Array.isArray(value)) fail('bad-field', `${where}.${name} must be an array, got ${kindOf(value)}`);
  if (value.length > maxLength) fail('bad-length', `${where}.${name} has ${value.length} entries, at most ${maxLength} allowed`);
  return value;
}

function numbers(raw: Raw, name: string, maxLength: number, where: string): number[] {
  const values = list(raw, name, maxLength, where);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number') fail('bad-field', `${where}.${name}[${i}] must be a number, got ${kindOf(value)}`);
    if (!Number.isFinite(value)) fail('not-finite', `${where}.${name}[${i}] is ${value}`);
  }
  return values as number[];
}
