import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dtype } from '../shared/kernel/dtype.js';
import type { ParamLayout, Params } from '../shared/network/layout.js';
import { writeFileAtomic } from '../shared/atomic-file.js';
import { modelFromJson, modelToJson, stringifyExact } from '../shared/network/model-file.js';
import { paramHash } from '../shared/param-hash.js';
import type { RngState } from '../shared/rng.js';
import type { CostName } from '../shared/network/cost.js';
import { type EtaSchedule, initialPlateau } from './plateau.js';
import type { TrainPosition } from './trainer.js';

/**
 * Checkpoints: one JSON file per checkpoint, `step-<step>.ckpt.json`, holding the model (the model-file layout),
 * the training position (step, epoch, data position, RNG state) and the configuration that must not change on
 * resume, guarded by a SHA-256 of the body. Written atomically (temp file, fsync, rename, fsync of the directory),
 * so a crash leaves the previous checkpoint intact; a damaged file is detected and skipped on resume.
 */
export const CHECKPOINT_FORMAT = 'nabla-checkpoint/2';
/** Format 1 is format 2 with paramHash from an earlier fingerprint function: read, its paramHash not re-checked. */
const READABLE_FORMATS = new Set([CHECKPOINT_FORMAT, 'nabla-checkpoint/1']);

/** What a resumed run must share with the run that wrote the checkpoint, or its numbers would differ. */
export interface JobIdentity {
  sizes: number[];
  batch: number;
  eta: number;
  seed: number;
  shuffle: boolean;
  maxChunks: number;
  trainSamples: number;
  cost: CostName;
  lambda: number;
  etaSchedule: EtaSchedule;
  plateauEpochs: number;
  stopAfterEpochs: number;
  dtype: Dtype;
}

/** Checkpoints written before a field existed meant its default; filled in so they still resume. */
function withDefaults(job: Partial<JobIdentity> & { eta: number }, position: TrainPosition): { job: JobIdentity; position: TrainPosition } {
  const defaults = { cost: 'quadratic', lambda: 0, etaSchedule: 'constant', plateauEpochs: 5, stopAfterEpochs: 0, dtype: 'float64' } as const;
  return {
    job: { ...defaults, ...job } as JobIdentity,
    position: { ...position, plateau: position.plateau ?? initialPlateau(job.eta) },
  };
}

export interface Checkpoint {
  position: TrainPosition;
  job: JobIdentity;
  layout: ParamLayout;
  params: Params;
  path: string;
}

const FILE_PATTERN = /^step-(\d+)\.ckpt\.json$/;
const fileName = (step: number): string => `step-${String(step).padStart(10, '0')}.ckpt.json`;
const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A checkpoint file's text: the body (JSON text) and the SHA-256 that guards it. */
export const checkpointFileText = (body: string): string => JSON.stringify({ sha256: digest(body), body }) + '\n';

/** Writes a checkpoint and keeps only the newest `keep`. Returns its path. */
export function writeCheckpoint(dir: string, position: TrainPosition, job: JobIdentity, layout: ParamLayout, params: Params, keep: number): string {
  mkdirSync(dir, { recursive: true });
  // paramHash lets a person match a checkpoint with the step events of the run that wrote it.
  const body = stringifyExact({ format: CHECKPOINT_FORMAT, position, job, paramHash: paramHash(params), model: modelToJson(layout, params) });
  const path = join(dir, fileName(position.step));
  writeFileAtomic(path, checkpointFileText(body));
  fsyncDirectory(dir);
  for (const old of listCheckpoints(dir).slice(keep)) rmSync(join(dir, old), { force: true });
  return path;
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Checkpoint file names in `dir`, newest first. */
export function listCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => FILE_PATTERN.test(name)).sort().reverse();
}

/** Reads and verifies one checkpoint; throws an Error saying what is wrong with it. */
export function readCheckpoint(path: string): Checkpoint {
  const text = readFileSync(path, 'utf8');
  let envelope: { sha256?: unknown; body?: unknown };
  try {
    envelope = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON (truncated?)');
  }
  if (typeof envelope.body !== 'string' || typeof envelope.sha256 !== 'string') throw new Error('missing body or checksum');
  if (digest(envelope.body) !== envelope.sha256) throw new Error('checksum mismatch (the file was damaged)');
  const body = JSON.parse(envelope.body) as { format: string; position: TrainPosition; job: JobIdentity; paramHash?: string; model: unknown };
  if (!READABLE_FORMATS.has(body.format)) throw new Error(`format "${body.format}", this nabla reads ${[...READABLE_FORMATS].map((f) => `"${f}"`).join(' and ')}`);
  const { layout, params } = modelFromJson(body.model, path);
  if (body.format === CHECKPOINT_FORMAT && body.paramHash !== paramHash(params)) throw new Error('its parameters do not match its paramHash');
  const rng = body.position.epochRng as RngState;
  if (!Array.isArray(rng) || rng.length !== 4) throw new Error('position.epochRng is not an RNG state');
  return { ...withDefaults(body.job, body.position), layout, params, path };
}

/**
 * The newest checkpoint in `dir` that verifies. Damaged ones are reported through `warn` and skipped.
 * Returns null when the directory holds none.
 */
export function newestValidCheckpoint(dir: string, warn: (message: string) => void): Checkpoint | null {
  for (const name of listCheckpoints(dir)) {
    const path = join(dir, name);
    try {
      return readCheckpoint(path);
    } catch (error) {
      warn(`checkpoint ${path} is unusable (${(error as Error).message}); trying the previous one`);
    }
  }
  return null;
}

/** The differences between the job a checkpoint was written for and this one, as readable lines. */
export function jobDifferences(saved: JobIdentity, current: JobIdentity): string[] {
  return (Object.keys(current) as Array<keyof JobIdentity>)
    .filter((key) => JSON.stringify(saved[key]) !== JSON.stringify(current[key]))
    .map((key) => `${key}: checkpoint has ${JSON.stringify(saved[key])}, this run has ${JSON.stringify(current[key])}`);
}
