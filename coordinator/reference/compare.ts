import type { Floats } from '../../shared/kernel/dtype.js';
import { shapeOf, type ParamLayout, type Params } from '../../shared/network/layout.js';

export type ParamKind = 'weights' | 'biases';

/**
 * The relative error's floor, relative = |cluster − reference| / max(|reference|, floor), per gradient tensor
 * (one layer's weights, or its biases):  floor = max(FLOOR_OF_TENSOR_MAX · max|reference in that tensor|,
 *                                                   FLOOR_OF_GRADIENT_MAX · max|reference in the whole gradient|).
 * Why: TF.js works in float32, so its error in an entry is not proportional to that entry but to the magnitudes
 * flowing through the computation. With N(0,1) weights most sigmoids saturate, σ'(z) = a(1 − a) is 1e-7 or less
 * there, and float32 returns 0 or noise for it (a rounds to 1); sums over the batch cancel, too. A pure relative
 * error of such entries is meaningless: we measured ∞ (float32 0 against a float64 1e-12).
 * Measured |cluster − reference| never exceeded 4.9e-6 × the largest entry of its tensor, so an entry below 1% of
 * that largest entry is judged by its absolute error instead. (With a floor of 0.1% the worst measured error was
 * 1.9e-3, too close to the 1e-2 of a 1% change for a safe tolerance in between.) The second term keeps a tensor
 * that is tiny next to the rest of the gradient (a wholly saturated layer) from being judged against its own noise.
 * Consequence: a 1% change is detected in every entry larger than DEFAULT_CHECK_TOLERANCE (0.2%) of its tensor's
 * largest entry; smaller entries are below what a float32 oracle can vouch for.
 */
export const FLOOR_OF_TENSOR_MAX = 1e-2;
export const FLOOR_OF_GRADIENT_MAX = 1e-4;

/**
 * Largest accepted relative error (as defined above) between the cluster's float64 gradient and TF.js's float32 one.
 * Measured worst relative error, backpropSums(jsGemm) against referenceGradient: seeded N(0,1) parameters, inputs
 * uniform in [0,1), one-hot targets (tfjs-gradient.test.ts re-measures the first two cases and prints them):
 *                                              wasm      cpu
 *   [784,30,10] batch 10, 40 seeds           1.1e-4    5.2e-5
 *   [784,256,256,10] batch 128, 6 seeds      2.2e-4    8.8e-5
 *   [784,30,10] batch 1 / batch 1000          1.1e-4 / 1.7e-5
 *   [784,100,10] b64; [4,3,2]; [5,8,6,4,3]; [6,5,1]            ≤ 7.3e-5
 *   after 200 SGD steps (η = 3): [784,30,10] b10, [784,100,30,10] b32   ≤ 1.9e-4
 *   weights ×3, i.e. N(0,9): [784,30,10] b10                     2.7e-4
 * 2e-3 leaves a margin of 7× over the worst of these, and still catches a 1% change in any entry that is not tiny.
 * Beyond float32's reach: a deep net with N(0,9) weights, [784,30,30,30,30,10], reached 1.5e-3 (wasm) and 4.0e-3
 * (cpu) — saturation that extreme makes the check fail; pass a larger tolerance to ReferenceChecker for such runs.
 * (Computing σ as exp(−softplus(−z)), whose float32 derivative keeps the digits of 1 − a, lowered some errors,
 * batch 1 from 1.1e-4 to 2.5e-5, but moved none of the worst cases by more than 10%: the reference keeps tf.sigmoid.)
 */
export const DEFAULT_CHECK_TOLERANCE = 2e-3;

/** Where an entry sits: layer is 1-based, the n-th weight matrix / bias vector (sizes[n−1] → sizes[n]). */
export interface ParamLocation {
  /** 1-based: layer 1 holds the weights and biases from the input layer into the first hidden (or output) layer. */
  layer: number;
  kind: ParamKind;
  /** Index within the layer's tensor: j·nIn + k for weights, j for biases. */
  index: number;
  /** Neuron in layer `layer` (the seed's row j of w). */
  j: number;
  /** Neuron in layer `layer − 1` (column k of w); -1 for biases. */
  k: number;
}

/** The entry with the largest relative error, reported when the comparison fails. */
export interface Offender extends ParamLocation {
  cluster: number;
  reference: number;
  absError: number;
  relError: number;
  tolerance: number;
}

export interface ErrorStats {
  maxAbsError: number;
  maxRelError: number;
}

export interface LayerComparison extends ErrorStats {
  /** 1-based, as in ParamLocation. */
  layer: number;
  nIn: number;
  nOut: number;
  weights: ErrorStats;
  biases: ErrorStats;
  /** The layer's entry with the largest relative error (the first one on ties, weights before biases). */
  worst: Offender;
}

export interface GradientComparison extends ErrorStats {
  ok: boolean;
  tolerance: number;
  layers: LayerComparison[];
  /** The entry with the largest relative error over the whole gradient (first on ties); the offender when !ok. */
  worst: Offender;
}

/**
 * Compares the cluster's summed gradient with the reference's, entry by entry, within `tolerance` on the relative
 * error (floor explained at FLOOR_OF_TENSOR_MAX). A non-finite cluster or reference entry counts as an infinite error.
 */
export function compareGradients(layout: ParamLayout, cluster: Params<Floats>, reference: Params, tolerance: number): GradientComparison {
  if (!(tolerance > 0)) throw new RangeError(`tolerance must be a positive number, got ${tolerance}`);
  checkLength('cluster', 'weights', cluster.weights, layout.weightCount, layout);
  checkLength('cluster', 'biases', cluster.biases, layout.biasCount, layout);
  checkLength('reference', 'weights', reference.weights, layout.weightCount, layout);
  checkLength('reference', 'biases', reference.biases, layout.biasCount, layout);

  const gradientMax = Math.max(maxAbs(reference.weights, 0, layout.weightCount), maxAbs(reference.biases, 0, layout.biasCount));
  const layers = layout.layers.map((shape, l): LayerComparison => {
    const { nIn, nOut, wOffset, bOffset } = shape;
    const w = compareTensor(cluster.weights, reference.weights, wOffset, nIn * nOut, gradientMax);
    const b = compareTensor(cluster.biases, reference.biases, bOffset, nOut, gradientMax);
    const worstInW = w.worstRel >= b.worstRel;
    const worst = worstInW
      ? offender(l + 1, 'weights', w.worstIndex, nIn, cluster.weights[wOffset + w.worstIndex], reference.weights[wOffset + w.worstIndex], w.worstRel, tolerance)
      : offender(l + 1, 'biases', b.worstIndex, nIn, cluster.biases[bOffset + b.worstIndex], reference.biases[bOffset + b.worstIndex], b.worstRel, tolerance);
    return {
      layer: l + 1, nIn, nOut,
      weights: { maxAbsError: w.maxAbs, maxRelError: w.worstRel },
      biases: { maxAbsError: b.maxAbs, maxRelError: b.worstRel },
      maxAbsError: Math.max(w.maxAbs, b.maxAbs),
      maxRelError: Math.max(w.worstRel, b.worstRel),
      worst,
    };
  });

  let worst = layers[0].worst;
  for (const layer of layers) if (layer.worst.relError > worst.relError) worst = layer.worst;
  const maxAbsError = Math.max(...layers.map((layer) => layer.maxAbsError));
  return { ok: worst.relError <= tolerance, tolerance, maxAbsError, maxRelError: worst.relError, layers, worst };
}

interface TensorResult {
  maxAbs: number;
  worstRel: number;
  worstIndex: number;
}

function compareTensor(cluster: Floats, reference: Float64Array, offset: number, count: number, gradientMax: number): TensorResult {
  const floor = Math.max(FLOOR_OF_TENSOR_MAX * maxAbs(reference, offset, count), FLOOR_OF_GRADIENT_MAX * gradientMax);
  let maxAbsErr = 0;
  let worstRel = -1;
  let worstIndex = 0;
  for (let i = 0; i < count; i++) {
    const c = cluster[offset + i];
    const r = reference[offset + i];
    const diff = Math.abs(c - r);
    let abs: number;
    let rel: number;
    if (!Number.isFinite(c) || !Number.isFinite(r)) {
      abs = Infinity;
      rel = Infinity;
    } else {
      abs = diff;
      // diff is 0 when both are 0, so a zero floor (an all-zero gradient) never divides 0 by 0.
      rel = diff === 0 ? 0 : diff / Math.max(Math.abs(r), floor);
    }
    if (abs > maxAbsErr) maxAbsErr = abs;
    if (rel > worstRel) {
      worstRel = rel;
      worstIndex = i;
    }
  }
  return { maxAbs: maxAbsErr, worstRel, worstIndex };
}

function offender(layer: number, kind: ParamKind, index: number, nIn: number, cluster: number, reference: number, relError: number, tolerance: number): Offender {
  const j = kind === 'weights' ? Math.floor(index / nIn) : index;
  const k = kind === 'weights' ? index % nIn : -1;
  const absError = Number.isFinite(cluster) && Number.isFinite(reference) ? Math.abs(cluster - reference) : Infinity;
  return { layer, kind, index, j, k, cluster, reference, absError, relError, tolerance };
}

function maxAbs(values: Floats, offset: number, count: number): number {
  let max = 0;
  for (let i = offset, end = offset + count; i < end; i++) {
    const a = Math.abs(values[i]);
    if (a > max) max = a; // NaN never wins; it is reported by the entry comparison instead
  }
  return max;
}

function checkLength(side: string, kind: ParamKind, values: Floats, expected: number, layout: ParamLayout): void {
  if (values.length !== expected) {
    throw new RangeError(`${side} gradient has ${values.length} ${kind}, expected ${expected} for sizes ${shapeOf(layout.sizes)}`);
  }
}

/**
 * "layer 2 (30→10) weights[3][17]": layer 1-based (layer 1 joins the input layer to the next), then the seed's
 * 0-based indices: j the neuron fed (a row of w), k the neuron feeding it (a column).
 */
export function describeLocation(location: ParamLocation, layout?: { nIn: number; nOut: number }): string {
  const shape = layout ? ` (${layout.nIn}→${layout.nOut})` : '';
  const at = location.kind === 'weights' ? `weights[${location.j}][${location.k}]` : `biases[${location.j}]`;
  return `layer ${location.layer}${shape} ${at}`;
}

/** One line for the step log: which step, layer, parameter, both values and the tolerance. */
export function formatMismatch(step: number, comparison: GradientComparison): string {
  const { worst, tolerance } = comparison;
  const shape = comparison.layers[worst.layer - 1];
  const where = describeLocation(worst, shape);
  if (comparison.ok) {
    return `reference check step ${step}: ok, largest relative error ${formatError(worst.relError)} at ${where} (tolerance ${formatError(tolerance)})`;
  }
  return `reference check FAILED at step ${step}: ${where}: cluster ${formatValue(worst.cluster)}, TF.js reference `
    + `${formatValue(worst.reference)}, relative error ${formatError(worst.relError)} > tolerance ${formatError(tolerance)}`;
}

/** A small aligned per-layer table of the errors, for `nabla verify`. */
export function formatErrorTable(comparison: GradientComparison): string {
  const header = ['layer', 'shape', 'max abs error', 'max rel error', 'worst entry', 'status'];
  const rows = comparison.layers.map((layer) => [
    String(layer.layer),
    `${layer.nIn}→${layer.nOut}`,
    formatError(layer.maxAbsError),
    formatError(layer.maxRelError),
    describeLocation(layer.worst).replace(/^layer \d+ /, ''),
    layer.maxRelError <= comparison.tolerance ? 'ok' : 'FAIL',
  ]);
  rows.push(['all', '', formatError(comparison.maxAbsError), formatError(comparison.maxRelError), '',
    `${comparison.ok ? 'ok' : 'FAIL'} (tolerance ${formatError(comparison.tolerance)})`]);
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => [...row[c]].length)));
  const rightAligned = new Set([0, 2, 3]);
  const line = (cells: string[]): string => cells
    .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
    .join('  ')
    .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function formatError(value: number): string {
  return Number.isFinite(value) ? value.toExponential(2) : String(value);
}

function formatValue(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(8) : String(value);
}
