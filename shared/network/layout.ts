import { newFloats, type Dtype, type Floats } from '../kernel/dtype.js';

/**
 * Flat parameter layout of a fully connected sigmoid network, computed once from `sizes`.
 * All weights live in one Float64Array and all biases in another. Layer l's weight matrix is
 * [nOut, nIn] row-major, as in the seed: w[wOffset + j*nIn + k] joins neuron k of layer l to neuron j of layer l+1.
 */
export interface LayerShape {
  readonly nIn: number;
  readonly nOut: number;
  readonly wOffset: number;
  readonly bOffset: number;
}

export interface ParamLayout {
  readonly sizes: readonly number[];
  readonly layers: readonly LayerShape[];
  readonly weightCount: number;
  readonly biasCount: number;
}

/** The parameters (or a gradient of them) in the flat layout; float64 except on a worker of a float32 job. */
export interface Params<F extends Floats = Float64Array> {
  weights: F;
  biases: F;
}

/** "[784,30,10]": how messages show a network's shape. */
export function shapeOf(sizes: readonly number[]): string {
  return `[${sizes.join(',')}]`;
}

/** Largest layer width we accept; keeps a typo like 7840000 from allocating gigabytes. */
export const MAX_LAYER_SIZE = 1 << 16;

/** Builds the layout for `sizes` (at least two layers, each a positive integer). Throws a readable error otherwise. */
export function createLayout(sizes: readonly number[]): ParamLayout {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new RangeError(`sizes must list at least two layers (input and output), got [${String(sizes)}]`);
  }
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_LAYER_SIZE) {
      throw new RangeError(`every layer size must be an integer from 1 to ${MAX_LAYER_SIZE}, got ${shapeOf(sizes)}`);
    }
  }
  const layers: LayerShape[] = [];
  let wOffset = 0;
  let bOffset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    layers.push({ nIn, nOut, wOffset, bOffset });
    wOffset += nIn * nOut;
    bOffset += nOut;
  }
  return { sizes: [...sizes], layers, weightCount: wOffset, biasCount: bOffset };
}

/** Parses "784,30,10" into a layout, with a message that says what to type instead. */
export function parseSizes(text: string): ParamLayout {
  const parts = text.split(',').map((part) => part.trim());
  const sizes = parts.map(Number);
  if (parts.some((part) => part === '') || sizes.some((n) => !Number.isInteger(n))) {
    throw new RangeError(`--sizes must be comma-separated integers such as 784,30,10, got "${text}"`);
  }
  return createLayout(sizes);
}

/** Zeroed parameters (or gradient sums) for a layout, float64 unless `dtype` says otherwise. */
export function zeroParams(layout: ParamLayout): Params;
export function zeroParams(layout: ParamLayout, dtype: Dtype): Params<Floats>;
export function zeroParams(layout: ParamLayout, dtype: Dtype = 'float64'): Params<Floats> {
  return { weights: newFloats(dtype, layout.weightCount), biases: newFloats(dtype, layout.biasCount) };
}

/** The parameters in `dtype`: themselves for float64, else a copy with every value rounded to nearest float32. */
export function paramsIn(params: Params, dtype: Dtype): Params<Floats> {
  if (dtype === 'float64') return params;
  return { weights: Float32Array.from(params.weights), biases: Float32Array.from(params.biases) };
}

/** A deep copy, for the points where a replica must not alias another. */
export function cloneParams(params: Params): Params {
  return { weights: params.weights.slice(), biases: params.biases.slice() };
}

export function sizesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

export const inputSize = (layout: ParamLayout): number => layout.sizes[0];
export const outputSize = (layout: ParamLayout): number => layout.sizes[layout.sizes.length - 1];
