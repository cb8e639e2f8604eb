import type { ParamLayout, Params } from './layout.js';

/**
 * Scratch buffers for batched forward and backward passes over up to `capacity` samples, allocated once.
 * Samples are rows: activations[l] is [capacity × sizes[l]] row-major; activations[0] holds the input rows.
 */
export interface Workspace {
  readonly layout: ParamLayout;
  readonly capacity: number;
  readonly activations: Float64Array[];
  /** deltas[l] (l ≥ 1) is δ^l for every row; deltas[0] is unused. */
  readonly deltas: Float64Array[];
  /** Target rows y, [capacity × sizes[L]]. */
  readonly targets: Float64Array;
}

export function createWorkspace(layout: ParamLayout, capacity: number): Workspace {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`workspace capacity must be a positive integer, got ${capacity}`);
  const activations = layout.sizes.map((size) => new Float64Array(capacity * size));
  const deltas = layout.sizes.map((size, l) => new Float64Array(l === 0 ? 0 : capacity * size));
  const targets = new Float64Array(capacity * layout.sizes[layout.sizes.length - 1]);
  return { layout, capacity, activations, deltas, targets };
}

/** The same workspace when it is large enough, else a larger one (grows only, so steady state allocates nothing). */
export function ensureCapacity(ws: Workspace, rows: number): Workspace {
  return rows <= ws.capacity ? ws : createWorkspace(ws.layout, Math.max(rows, ws.capacity * 2));
}

/** Per-layer views into flat parameters, made once per buffer so hot loops never call subarray. */
export interface LayerViews {
  readonly params: Params;
  readonly w: readonly Float64Array[];
  readonly b: readonly Float64Array[];
}

export function layerViews(layout: ParamLayout, params: Params): LayerViews {
  return {
    params,
    w: layout.layers.map(({ nIn, nOut, wOffset }) => params.weights.subarray(wOffset, wOffset + nIn * nOut)),
    b: layout.layers.map(({ nOut, bOffset }) => params.biases.subarray(bOffset, bOffset + nOut)),
  };
}
