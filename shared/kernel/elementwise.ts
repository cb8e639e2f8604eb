import type { Floats } from './dtype.js';
import { nativeAddon } from '../native-addon.js';
import {
  LIMIT, LN2_OVER_64_HI, LN2_OVER_64_LO, POWERS_OF_TWO, sigmoid, SIXTY_FOUR_OVER_LN2, TWO_TO_J_OVER_64,
} from '../network/exp.js';

/**
 * The loops of training that are not matrix products: the σ of every layer, BP2's ⊙ σ' and BP3's row sums, the
 * update, the inputs' scaling, and the scans of every received array (finite?) and of the parameters (their hash).
 * With OpenBLAS doing the products, these loops in TypeScript were half a worker's step (profile of [784,256,256,10],
 * batch 128, float32, on a Xeon: GEMM 3.2 ms, these 3.6 ms). Two implementations with
 * one result: the TypeScript loops below (the fallback, and the oracle in elementwise.test.ts) and their C twins in
 * native/elementwise.c, built at `npm install` when a C compiler is there (scripts/build-native.mjs). The C code does
 * the same IEEE double operations in the same order, and e^x with exp.ts's own tables, so either gives the same
 * bits (which NaN an invalid operation yields aside; a NaN ends training anyway): workers with and without the addon
 * agree exactly, and nothing about it needs configuring.
 *
 * All arrays are of one float type unless a signature says otherwise; a float32 element is widened to double when
 * read and rounded to nearest when stored, as a Float32Array does.
 */
export interface Elementwise {
  /** 'native' (the C addon) or 'js'. */
  readonly name: 'native' | 'js';
  /** As start-up lines print it: "C loops (AVX2)", "C loops" or "TypeScript loops". */
  readonly description: string;
  /** Feedforward's activation: out[i·nOut + j] ← σ(out[i·nOut + j] + b[j]) for the first `rows` rows. */
  sigmoidBias(out: Floats, b: Floats, rows: number, nOut: number): void;
  /** BP2's factor σ'(z) = a(1 − a): delta[i] ← delta[i] · (a[i] · (1 − a[i])) for i < n. */
  sigmoidPrimeTimes(delta: Floats, a: Floats, n: number): void;
  /** BP3: sum[j] ← Σ m[i·width + j] over rows first ≤ i < end, added in row order from 0. */
  sumRows(sum: Floats, m: Floats, first: number, end: number, width: number): void;
  /**
   * sgd.ts's update in place: w ← decay·w − rate·∇w, b ← b − rate·∇b; the new values also into outW/outB (a float32
   * copy, rounded) unless those are null. Returns the fingerprint ((s0 + s1) + (s2 + s3)) + sb: new weight i added
   * into partial sum i mod 4 (the last length mod 4 into s0), new biases into sb. `lanes` (unless null): the new
   * parameters mixed in as param-hash.ts mixes them (hashWords over the weights' words, their length into lane 0,
   * the same for the biases), in the update's own pass where the addon does it.
   */
  sgdStep(
    weights: Float64Array, biases: Float64Array, nablaW: Floats, nablaB: Floats,
    outW: Float32Array | null, outB: Float32Array | null, rate: number, decay: number, lanes: Int32Array | null,
  ): number;
  /**
   * Stored integer inputs into network form: out[outOffset + k] ← table[ints[intsOffset + k]] for k < count, the
   * table holding a quotient for every value the type can hold (256 for a Uint8Array, 65,536 for a Uint16Array).
   */
  lookupInts(out: Floats, outOffset: number, ints: Uint8Array | Uint16Array, intsOffset: number, count: number, table: Float64Array): void;
  /** The index of the first infinite or NaN value, or -1 (every received parameter and gradient is checked). */
  firstNonFinite(values: Floats): number;
  /**
   * param-hash.ts's mixing of 32-bit words into four lanes (read from and written back to `lanes`): word i into lane
   * i mod 4, the last length mod 4 into lane 0; each lane h ← imul(h ⊕ word, odd), h ← h ⊕ (h >>> shift).
   */
  hashWords(words: Int32Array, lanes: Int32Array): void;
}

/**
 * param-hash.ts's mixing of the parameters into its lanes, with `hashWords` (either implementation's): each array's
 * 32-bit words, then its length (in values) into lane 0; the weights, then the biases.
 */
export function mixParams(hashWords: Elementwise['hashWords'], lanes: Int32Array, weights: Float64Array, biases: Float64Array): void {
  for (const array of [weights, biases]) {
    hashWords(new Int32Array(array.buffer, array.byteOffset, array.byteLength / 4), lanes);
    lanes[0] = Math.imul(lanes[0] ^ array.length, 0x01000193);
  }
}

export const jsElementwise: Elementwise = {
  name: 'js',
  description: 'TypeScript loops',
  sigmoidBias(out, b, rows, nOut) {
    for (let i = 0; i < rows; i++) {
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) out[row + j] = sigmoid(out[row + j] + b[j]);
    }
  },
  sigmoidPrimeTimes(delta, a, n) {
    for (let i = 0; i < n; i++) {
      const ai = a[i];
      delta[i] *= ai * (1 - ai);
    }
  },
  sumRows(sum, m, first, end, width) {
    sum.fill(0, 0, width);
    for (let i = first; i < end; i++) {
      const row = i * width;
      for (let j = 0; j < width; j++) sum[j] += m[row + j];
    }
  },
  sgdStep(weights, biases, nablaW, nablaB, outW, outB, rate, decay, lanes) {
    // Without a float32 copy the new value is stored twice into the same place: cheaper than a second loop.
    const toW = outW ?? weights, toB = outB ?? biases;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, sb = 0;
    const whole = weights.length - (weights.length % 4);
    let i = 0;
    for (; i < whole; i += 4) {
      const w0 = decay * weights[i] - rate * nablaW[i];
      const w1 = decay * weights[i + 1] - rate * nablaW[i + 1];
      const w2 = decay * weights[i + 2] - rate * nablaW[i + 2];
      const w3 = decay * weights[i + 3] - rate * nablaW[i + 3];
      weights[i] = w0; weights[i + 1] = w1; weights[i + 2] = w2; weights[i + 3] = w3;
      toW[i] = w0; toW[i + 1] = w1; toW[i + 2] = w2; toW[i + 3] = w3;
      s0 += w0; s1 += w1; s2 += w2; s3 += w3;
    }
    for (; i < weights.length; i++) {
      const w = decay * weights[i] - rate * nablaW[i];
      weights[i] = w;
      toW[i] = w;
      s0 += w;
    }
    for (let j = 0; j < biases.length; j++) {
      const b = biases[j] - rate * nablaB[j];
      biases[j] = b;
      toB[j] = b;
      sb += b;
    }
    if (lanes) mixParams(jsElementwise.hashWords, lanes, weights, biases);
    return ((s0 + s1) + (s2 + s3)) + sb;
  },
  lookupInts(out, outOffset, ints, intsOffset, count, table) {
    if (table.length !== (ints instanceof Uint8Array ? 256 : 65536)) throw new TypeError('lookupInts: the table must hold a value for every value of the integer type');
    for (let k = 0; k < count; k++) out[outOffset + k] = table[ints[intsOffset + k]];
  },
  firstNonFinite(values) {
    // The common case in one branch-free pass: x·0 is 0 for every finite x and NaN otherwise, summed in four
    // independent lanes (2.5× the speed of a Number.isFinite loop on a 1 MB array); only a NaN sum looks for the index.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const whole = values.length - (values.length % 4);
    for (let i = 0; i < whole; i += 4) {
      s0 += values[i] * 0;
      s1 += values[i + 1] * 0;
      s2 += values[i + 2] * 0;
      s3 += values[i + 3] * 0;
    }
    for (let i = whole; i < values.length; i++) s0 += values[i] * 0;
    if (s0 + s1 + s2 + s3 === 0) return -1;
    return values.findIndex((value) => !Number.isFinite(value));
  },
  hashWords(words, lanes) {
    let h0 = lanes[0], h1 = lanes[1], h2 = lanes[2], h3 = lanes[3];
    const whole = words.length - (words.length % 4);
    let i = 0;
    for (; i < whole; i += 4) {
      h0 = Math.imul(h0 ^ words[i], 0x85ebca6b);
      h1 = Math.imul(h1 ^ words[i + 1], 0xc2b2ae35);
      h2 = Math.imul(h2 ^ words[i + 2], 0x27d4eb2f);
      h3 = Math.imul(h3 ^ words[i + 3], 0x165667b1);
      h0 ^= h0 >>> 15;
      h1 ^= h1 >>> 13;
      h2 ^= h2 >>> 16;
      h3 ^= h3 >>> 15;
    }
    for (; i < words.length; i++) {
      h0 = Math.imul(h0 ^ words[i], 0x85ebca6b);
      h0 ^= h0 >>> 15;
    }
    lanes[0] = h0; lanes[1] = h1; lanes[2] = h2; lanes[3] = h3;
  },
};

/** The addon's loops, as native/elementwise.c exports them (it checks its arguments and throws on bad ones). */
interface NativeLoops {
  /** Returns how many values sigmoidBias takes at a time: 4 with AVX2 (unless NABLA_NATIVE_SCALAR is set), else 1. */
  init(twoToJOver64: Float64Array, powersOfTwo: Float64Array, limit: number, sixtyFourOverLn2: number, hi: number, lo: number): number;
  /** Stops at an index whose e^x argument is beyond ±LIMIT (or NaN) and returns it; rows·nOut when done. */
  sigmoidBias(out: Floats, b: Floats, rows: number, nOut: number, start: number): number;
  sigmoidPrimeTimes(delta: Floats, a: Floats, n: number): void;
  sumRows(sum: Floats, m: Floats, first: number, end: number, width: number): void;
  sgdStep(...args: Parameters<Elementwise['sgdStep']>): number;
  lookupInts(...args: Parameters<Elementwise['lookupInts']>): void;
  firstNonFinite(values: Floats): number;
  hashWords(words: Int32Array, lanes: Int32Array): void;
}

/** The C loops, or why they are not available. */
function loadNative(): Elementwise | string {
  if (typeof nativeAddon === 'string') return nativeAddon;
  const addon = nativeAddon.addon as unknown as NativeLoops;
  let vectorWidth: number;
  try {
    vectorWidth = addon.init(TWO_TO_J_OVER_64, POWERS_OF_TWO, LIMIT, SIXTY_FOUR_OVER_LN2, LN2_OVER_64_HI, LN2_OVER_64_LO);
  } catch (error) {
    return `${nativeAddon.path}: ${(error as Error).message}`;
  }
  return {
    name: 'native',
    description: vectorWidth === 4 ? 'C loops (AVX2)' : 'C loops',
    sigmoidBias(out, b, rows, nOut) {
      // The addon leaves to us the rare value exp.ts hands to Math.exp (|x| > 700: σ is 0, 1 or nearly so).
      const n = rows * nOut;
      for (let i = addon.sigmoidBias(out, b, rows, nOut, 0); i < n; i = addon.sigmoidBias(out, b, rows, nOut, i + 1)) {
        out[i] = sigmoid(out[i] + b[i % nOut]);
      }
    },
    sigmoidPrimeTimes: addon.sigmoidPrimeTimes,
    sumRows: addon.sumRows,
    sgdStep: addon.sgdStep,
    lookupInts: addon.lookupInts,
    firstNonFinite: addon.firstNonFinite,
    hashWords: addon.hashWords,
  };
}

const loaded = loadNative();

/** The C loops, or null when the addon did not load (see nativeLoadFailure). */
export const nativeElementwise: Elementwise | null = typeof loaded === 'string' ? null : loaded;

/** The loops training uses: the addon when it loads, else the TypeScript ones (same bits either way). */
export let elementwise: Elementwise = nativeElementwise ?? jsElementwise;

/** Why the addon did not load, or null when it did. */
export function nativeLoadFailure(): string | null {
  return typeof loaded === 'string' ? loaded : null;
}

/** Makes training use these loops from now on (the bench times both; `elementwise` is a live binding). */
export function useElementwise(loops: Elementwise): void {
  elementwise = loops;
}
