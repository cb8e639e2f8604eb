import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-file.js';
import { UsageError } from '../usage-error.js';
import { COST_NAMES, type CostName, parseCostName } from './cost.js';
import { createLayout, type ParamLayout, type Params, zeroParams } from './layout.js';

/**
 * The model file (also the parameter part of a checkpoint), in the seed's orientation:
 * {"sizes":[…], "biases":[[…per layer…]], "weights":[[[row]…]…]}, weights[l] holding sizes[l+1] rows of sizes[l]
 * numbers. Biases may also be column vectors ([[b0],[b1],…]) as numpy's tolist() writes them. Extra keys are allowed.
 * An optional "cost" names the cost the model was trained with ("quadratic", "cross-entropy", or network2's class
 * names "QuadraticCost"/"CrossEntropyCost"); without it the cost is the seed's quadratic one.
 * A bad model file is a mistake in how a command was called: ModelFileError is a UsageError (exit 2, no stack).
 */
export class ModelFileError extends UsageError {
  override readonly name = 'ModelFileError';
}

export interface Model {
  layout: ParamLayout;
  params: Params;
  cost: CostName;
}

/** A model as JSON: biases[l] lists sizes[l+1] numbers; weights[l] holds sizes[l+1] rows of sizes[l] numbers. */
export interface ModelJson {
  sizes: number[];
  biases: number[][];
  weights: number[][][];
}

/** The JSON object for a model; numbers print with round-trip precision, so reading it back is bit-exact. */
export function modelToJson(layout: ParamLayout, params: Params, extra: Record<string, unknown> = {}): ModelJson & Record<string, unknown> {
  const biases = layout.layers.map(({ nOut, bOffset }) => Array.from(params.biases.subarray(bOffset, bOffset + nOut)));
  const weights = layout.layers.map(({ nIn, nOut, wOffset }) =>
    Array.from({ length: nOut }, (_, j) => Array.from(params.weights.subarray(wOffset + j * nIn, wOffset + (j + 1) * nIn))),
  );
  return { ...extra, sizes: [...layout.sizes], biases, weights };
}

/** Parses a model object, with an error that names the first field that is wrong. */
export function modelFromJson(json: unknown, source: string): Model {
  const bad = (what: string): never => { throw new ModelFileError(`${source}: ${what}`); };
  if (typeof json !== 'object' || json === null) bad('expected a JSON object with sizes, biases and weights');
  const { sizes, biases, weights, cost: costText } = json as Record<string, unknown>;
  const cost = costText === undefined ? 'quadratic' : parseCostName(costText);
  if (cost === null) bad(`"cost" must be one of ${COST_NAMES.join(', ')} (or network2's QuadraticCost, CrossEntropyCost), got ${JSON.stringify(costText)}`);
  if (!Array.isArray(sizes)) bad('"sizes" must be a list of layer sizes such as [784,30,10]');
  let layout: ParamLayout;
  try {
    layout = createLayout(sizes as number[]);
  } catch (error) {
    return bad(`"sizes": ${(error as Error).message}`);
  }
  if (!Array.isArray(biases) || biases.length !== layout.layers.length) bad(`"biases" must hold ${layout.layers.length} layers`);
  if (!Array.isArray(weights) || weights.length !== layout.layers.length) bad(`"weights" must hold ${layout.layers.length} layers`);
  const params = zeroParams(layout);
  layout.layers.forEach(({ nIn, nOut, wOffset, bOffset }, l) => {
    const b = (biases as unknown[])[l];
    if (!Array.isArray(b) || b.length !== nOut) bad(`biases[${l}] must hold ${nOut} numbers`);
    (b as unknown[]).forEach((value, j) => {
      params.biases[bOffset + j] = finite(Array.isArray(value) && value.length === 1 ? value[0] : value, `biases[${l}][${j}]`, bad);
    });
    const w = (weights as unknown[])[l];
    if (!Array.isArray(w) || w.length !== nOut) bad(`weights[${l}] must hold ${nOut} rows (sizes[${l + 1}])`);
    (w as unknown[]).forEach((row, j) => {
      if (!Array.isArray(row) || row.length !== nIn) bad(`weights[${l}][${j}] must hold ${nIn} numbers (sizes[${l}])`);
      (row as unknown[]).forEach((value, k) => { params.weights[wOffset + j * nIn + k] = finite(value, `weights[${l}][${j}][${k}]`, bad); });
    });
  });
  return { layout, params, cost: cost as CostName };
}

function finite(value: unknown, where: string, bad: (what: string) => never): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return bad(`${where} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

/** Reads and validates a model file; a missing or unreadable file is a ModelFileError that says so. */
export function readModelFile(path: string): Model {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ModelFileError(`cannot read model file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(`${path} is not valid JSON (${(error as Error).message}); was it truncated?`);
  }
  return modelFromJson(json, path);
}

export function writeModelFile(path: string, layout: ParamLayout, params: Params, extra: Record<string, unknown> = {}): void {
  writeFileAtomic(path, stringifyExact(modelToJson(layout, params, extra)) + '\n');
}

const NEGATIVE_ZERO = '\u0000-0';

/**
 * JSON.stringify, except that a parameter of −0 is written as -0.0 (JSON.stringify writes 0): every bit of the model
 * comes back when read (JSON.parse, and Python's json, read -0.0 as −0). A −0 lasts once there is one: a weight from an
 * always-blank pixel gets gradient ±0 every step, and −0 − (+0) is −0 (one comes, e.g., from a model file's -0.0).
 */
export function stringifyExact(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (Object.is(v, -0) ? NEGATIVE_ZERO : v)).replaceAll(JSON.stringify(NEGATIVE_ZERO), '-0.0');
}
