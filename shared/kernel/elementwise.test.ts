import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DTYPES, newFloats, type Dtype, type Floats } from './dtype.js';
import { elementwise, jsElementwise, nativeElementwise, nativeLoadFailure } from './elementwise.js';
import { hashLanes } from '../param-hash.js';
import { thrownBy } from '../../test/support/thrown.js';

// The C addon is built by `npm install` where a compiler is (CI: always). Without it these cases cannot run; the
// TypeScript loops are then what training uses, and the rest of the suite tests them.
const failure = nativeLoadFailure();
if (failure !== null) console.warn(`the C elementwise loops are not loaded (${failure}): their agreement cases are skipped`);
const native = nativeElementwise;

/** Pre-activations as training meets them, plus the awkward ones: saturating, beyond exp's ±700 cut, NaN, ±∞, ±0. */
const zValue = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -12, max: 12, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ min: -800, max: 800, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 700, -700, 700.0000000000001, 745.2, -745.2, 1e-300) },
);
const unit = fc.double({ min: -1, max: 2, noNaN: true });

function floats(dtype: Dtype, values: readonly number[]): Floats {
  const out = newFloats(dtype, values.length);
  out.set(values);
  return out;
}

/**
 * Bit-identical, except that any NaN matches any NaN: ∞ − ∞ gives the CPU's default NaN in C, and V8 may store
 * another NaN into a typed array. Payloads carry nothing here (a NaN gradient is refused on receipt, a NaN parameter
 * ends training as diverged).
 */
function sameValues(actual: Floats, expected: Floats): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) return false;
  }
  return true;
}

/** Runs `op` on copies of the inputs with the TypeScript and the C loops; every array must come out bit-identical. */
function expectSameEffect(arrays: Floats[], op: (impl: typeof jsElementwise, copies: Floats[]) => number | void): void {
  const fromJs = arrays.map((a) => a.slice());
  const fromC = arrays.map((a) => a.slice());
  const jsResult = op(jsElementwise, fromJs);
  const cResult = op(native!, fromC);
  if (jsResult !== undefined) expect(Object.is(cResult, jsResult) || (Number.isNaN(cResult) && Number.isNaN(jsResult))).toBe(true);
  fromC.forEach((array, i) => expect(sameValues(array, fromJs[i]), `array ${i}`).toBe(true));
}

describe.skipIf(native === null).each(DTYPES)('the C elementwise loops give the TypeScript loops\' bits (%s)', (dtype) => {
  test.prop([fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.array(zValue, { minLength: 400, maxLength: 400 })], { numRuns: 200 })(
    'sigmoidBias, including the values exp hands to Math.exp', (rows, nOut, pool) => {
      const z = floats(dtype, Array.from({ length: rows * nOut + 3 }, (_, i) => pool[i % pool.length]));
      const b = floats(dtype, Array.from({ length: nOut }, (_, j) => pool[(j * 7 + 1) % pool.length] / 4));
      expectSameEffect([z, b], (impl, [out, bias]) => impl.sigmoidBias(out, bias, rows, nOut));
    });

  test.prop([fc.array(fc.tuple(zValue, unit), { maxLength: 300 })], { numRuns: 200 })('sigmoidPrimeTimes', (pairs) => {
    const delta = floats(dtype, pairs.map(([d]) => d)), a = floats(dtype, pairs.map(([, x]) => x));
    expectSameEffect([delta, a], (impl, [d, act]) => impl.sigmoidPrimeTimes(d, act, pairs.length));
  });

  test.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.array(zValue, { minLength: 12 * 30, maxLength: 12 * 30 })], { numRuns: 200 })(
    'sumRows', (width, a, b, pool) => {
      const [first, end] = a <= b ? [a, b] : [b, a];
      const m = floats(dtype, pool.slice(0, end * width));
      const sum = floats(dtype, Array.from({ length: width + 2 }, () => 123.5));
      expectSameEffect([sum, m], (impl, [s, rows]) => impl.sumRows(s, rows, first, end, width));
    });

  test.prop([
    fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), zValue), { maxLength: 203 }),
    fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), zValue), { maxLength: 13 }),
    fc.double({ min: 1e-4, max: 10, noNaN: true }), fc.constantFrom(1, 0.9999, 0.5), fc.boolean(), fc.boolean(),
  ], { numRuns: 300 })('sgdStep: the update, its float32 copy, its fingerprint and its hash lanes', (w, b, rate, decay, rounded, hashed) => {
    const weights = Float64Array.from(w, ([x]) => x), biases = Float64Array.from(b, ([x]) => x);
    const nablaW = floats(dtype, w.map(([, g]) => g)), nablaB = floats(dtype, b.map(([, g]) => g));
    const outW = new Float32Array(w.length), outB = new Float32Array(b.length);
    // Lanes travel as a Float64Array's bytes (expectSameEffect copies and compares float arrays).
    const lanes = new Float64Array(hashLanes().buffer);
    expectSameEffect([weights, biases, nablaW, nablaB, outW, outB, lanes], (impl, [pw, pb, gw, gb, ow, ob, ln]) =>
      impl.sgdStep(pw as Float64Array, pb as Float64Array, gw, gb, rounded ? ow as Float32Array : null, rounded ? ob as Float32Array : null, rate, decay,
        hashed ? new Int32Array(ln.buffer, ln.byteOffset, 4) : null));
  });

  const integers = fc.oneof(fc.uint8Array({ minLength: 2, maxLength: 900 }), fc.uint16Array({ minLength: 2, maxLength: 900 }));
  test.prop([integers, fc.constantFrom(255, 1000, 1, 3, 0.1, 65535)], { numRuns: 100 })('lookupInts', (ints, divisor) => {
    const count = ints.length - 2;
    const table = Float64Array.from({ length: ints instanceof Uint8Array ? 256 : 65536 }, (_, v) => v / divisor);
    expectSameEffect([newFloats(dtype, count + 5)], (impl, [out]) => impl.lookupInts(out, 5, ints, 2, count, table));
  });

  test.prop([fc.array(zValue, { maxLength: 300 })], { numRuns: 200 })('firstNonFinite', (values) => {
    const array = floats(dtype, values);
    expect(native!.firstNonFinite(array)).toBe(jsElementwise.firstNonFinite(array));
    expect(jsElementwise.firstNonFinite(array)).toBe(values.findIndex((v) => !Number.isFinite(dtype === 'float32' ? Math.fround(v) : v)));
  });

  // The C loop tests blocks of 2048 values at a time: bad values on either side of a block's edge, two in one array.
  test.prop([fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 9999 }), fc.constantFrom(NaN, Infinity, -Infinity, 3.5e38)], { numRuns: 200 })(
    'firstNonFinite over many blocks', (first, second, bad) => {
      const array = newFloats(dtype, 10_000).fill(0.25);
      array[first] = bad;
      array[second] = NaN;
      expect(native!.firstNonFinite(array)).toBe(jsElementwise.firstNonFinite(array));
      expect(native!.firstNonFinite(array)).toBe(dtype === 'float64' && bad === 3.5e38 ? second : Math.min(first, second));
    });
});

describe.skipIf(native === null)('the C hash lanes', () => {
  const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  test.prop([fc.array(int32, { maxLength: 300 }), fc.array(int32, { minLength: 4, maxLength: 4 })], { numRuns: 300 })(
    'give the TypeScript lanes\' words', (words, start) => {
      const [js, c] = [Int32Array.from(start), Int32Array.from(start)];
      jsElementwise.hashWords(Int32Array.from(words), js);
      native!.hashWords(Int32Array.from(words), c);
      expect([...c]).toEqual([...js]);
    });
});

const messageOf = (call: () => unknown): string => String((thrownBy(call) as Error | undefined)?.message);

describe.skipIf(native === null)('the C elementwise loops check their arguments', () => {
  const f64 = new Float64Array(10), f32 = new Float32Array(10);
  it('refuses mixed float types, short arrays and bad indices with an error, instead of touching memory', () => {
    const c = native!;
    expect(messageOf(() => c.sigmoidBias(f64, f32, 1, 10))).toMatch(/one type/);
    expect(messageOf(() => c.sigmoidBias(f64, f64, 2, 10))).toMatch(/rows·nOut/);
    expect(messageOf(() => c.sigmoidBias(f64, f64, -1, 10))).toMatch(/non-negative integers/);
    expect(messageOf(() => c.sigmoidPrimeTimes(f64, f64, 11))).toMatch(/no larger than either/);
    expect(messageOf(() => c.sumRows(f64, f64, 3, 2, 1))).toMatch(/first ≤ end/);
    expect(messageOf(() => c.sumRows(f64, f64, 0, 2, 6))).toMatch(/end·width/);
    expect(messageOf(() => c.sgdStep(f64, f64, f64, f32, null, null, 1, 1, null))).toMatch(/one type/);
    expect(messageOf(() => c.sgdStep(f64, f64, new Float64Array(9), f64, null, null, 1, 1, null))).toMatch(/as many values/);
    expect(messageOf(() => c.sgdStep(f64, f64, f64, f64, f64 as unknown as Float32Array, f32, 1, 1, null))).toMatch(/outW and outB/);
    expect(messageOf(() => c.sgdStep(f64, f64, f64, f64, null, null, 1, 1, new Int32Array(3)))).toMatch(/lanes must be null or an Int32Array of 4/);
    expect(messageOf(() => c.lookupInts(f64, 0, new Uint8Array(4), 0, 1, new Float64Array(255)))).toMatch(/table: Float64Array of 256/);
    expect(messageOf(() => c.lookupInts(f64, 0, new Uint16Array(4), 0, 1, new Float64Array(256)))).toMatch(/table: Float64Array of 65536/);
    expect(messageOf(() => c.lookupInts(f64, 0, new Int16Array(4) as unknown as Uint16Array, 0, 1, new Float64Array(65536)))).toMatch(/Uint8Array .* or Uint16Array/);
    expect(messageOf(() => c.lookupInts(f64, 8, new Uint8Array(4), 0, 3, new Float64Array(256)))).toMatch(/within both arrays/);
    expect(messageOf(() => jsElementwise.lookupInts(f64, 0, new Uint16Array(4), 0, 1, new Float64Array(256)))).toMatch(/every value of the integer type/);
    expect(messageOf(() => c.firstNonFinite(new Uint8Array(3) as unknown as Float64Array))).toMatch(/Float64Array or Float32Array/);
    expect(messageOf(() => c.hashWords(new Int32Array(8), new Int32Array(3)))).toMatch(/Int32Array of 4/);
  });
});

describe('elementwise', () => {
  it('is the C addon when it is built, and says why not otherwise', () => {
    expect(elementwise).toBe(native ?? jsElementwise);
    if (native !== null) expect(nativeLoadFailure()).toBeNull();
    else expect(nativeLoadFailure()).toMatch(/NABLA_NATIVE=off|not built|nabla_native/);
  });

  it('sigmoidBias is σ(z + b) row by row (the TypeScript loops, against the formula)', () => {
    const out = Float64Array.from([0, 1, -2, 3]), b = Float64Array.from([0.5, -0.5]);
    jsElementwise.sigmoidBias(out, b, 2, 2);
    expect([...out]).toEqual([0.5, 0.5, -1.5, 2.5].map((z) => expect.closeTo(1 / (1 + Math.exp(-z)), 15)));
  });
});
