import { dtypeOf, newFloats, type Dtype, type Floats } from '../kernel/dtype.js';
import type { ParamLayout, Params } from './layout.js';

/**
 * Scratch buffers for batched forward and backward passes over up to `capacity` samples, allocated once.
 * Samples are rows: activations[l] is [capacity × sizes[l]] row-major; activations[0] holds the input rows.
 */
export interface Workspace<F extends Floats = Float64Array> {
  readonly layout: ParamLayout;
  readonly capacity: number;
  readonly activations: F[];
  /** deltas[l] (l ≥ 1) is δ^l for every row; deltas[0] is unused. */
  readonly deltas: F[];
  /** Target rows y, [capacity × sizes[L]]. */
  readonly targets: F;
}

/** A float64 workspace, or one of `dtype` (the compute type of a worker's job). */
export function createWorkspace(layout: ParamLayout, capacity: number): Workspace;
export function createWorkspace(layout: ParamLayout, capacity: number, dtype: Dtype): Workspace<Floats>;
export function createWorkspace(layout: ParamLayout, capacity: number, dtype: Dtype = 'float64'): Workspace<Floats> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`workspace capacity must be a positive integer, got ${capacity}`);
  const activations = layout.sizes.map((size) => newFloats(dtype, capacity * size));
  const deltas = layout.sizes.map((size, l) => newFloats(dtype, l === 0 ? 0 : capacity * size));
  const targets = newFloats(dtype, capacity * layout.sizes[layout.sizes.length - 1]);
  return { layout, capacity, activations, deltas, targets };
}

/** The same workspace when it is large enough, else a larger one (grows only, so steady state allocates nothing). */
export function ensureCapacity(ws: Workspace<Floats>, rows: number): Workspace<Floats> {
  return rows <= ws.capacity ? ws : createWorkspace(ws.layout, Math.max(rows, ws.capacity * 2), dtypeOf(ws.targets));
}

/** Per-layer views into flat parameters, made once per buffer so hot loops never call subarray. */
export interface LayerViews<F extends Floats = Float64Array> {
  readonly params: Params<F>;
  readonly w: readonly F[];
  readonly b: readonly F[];
}

export function layerViews<F extends Floats>(layout: ParamLayout, params: Params<F>): LayerViews<F> {
  return {
    params,
    w: layout.layers.map(({ nIn, nOut, wOffset }) => params.weights.subarray(wOffset, wOffset + nIn * nOut) as F),
    b: layout.layers.map(({ nOut, bOffset }) => params.biases.subarray(bOffset, bOffset + nOut) as F),
  };
}
