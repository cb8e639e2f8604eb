import { describe, expect, it } from 'vitest';
import { exp } from './exp.js';

/** Distance in units in the last place between two positive finite doubles (their bit patterns' difference). */
function ulpsApart(a: number, b: number): number {
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  return Math.abs(Number(view.getBigInt64(0) - view.getBigInt64(8)));
}

/** x and e^x rounded to the nearest double, from 50-digit decimals (Python's decimal module). */
const EXACT: ReadonlyArray<[number, number]> = [
  [-700.0, 9.85967654375977e-305],
  [-654.321, 6.79204112088897e-285],
  [-100.5, 2.256340135917036e-44],
  [-20.0, 2.061153622438558e-09],
  [-1.0, 0.36787944117144233],
  [-0.5, 0.6065306597126334],
  [-1e-10, 0.9999999999],
  [1e-10, 1.0000000001],
  [0.001, 1.0010005001667084],
  [0.5, 1.6487212707001282],
  [1.0, 2.718281828459045],
  [2.5, 12.182493960703473],
  [10.0, 22026.465794806718],
  [37.25, 1.504767666846084e+16],
  [100.0, 2.6881171418161356e+43],
  [700.0, 1.0142320547350045e+304],
  [0.0054152123481245725, 1.0054299011128027], // ≈ ln2/128: the edge of the reduced range
  [0.34657359027997264, 1.414213562373095], // ln2/2
];

describe('exp', () => {
  it('is within 1 ulp of the correctly rounded e^x at points across its range (within 1.5 ulp of the exact value)', () => {
    for (const [x, nearest] of EXACT) expect(ulpsApart(exp(x), nearest), `exp(${x})`).toBeLessThanOrEqual(1);
  });

  it('agrees with Math.exp to 3 ulp on 200,000 points of [−700, 700] (both are within 1.5 ulp of exact)', () => {
    let worst = 0;
    let state = 12345;
    for (let i = 0; i < 200_000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const scale = [700, 20, 1e-3][i % 3];
      const x = (state / 2 ** 32 * 2 - 1) * scale;
      worst = Math.max(worst, ulpsApart(exp(x), Math.exp(x)));
    }
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('steps monotonically across the table boundaries k·ln2/64, where the reduction changes k', () => {
    const decreases: number[] = [];
    for (let k = -64 * 20; k <= 64 * 20; k++) {
      const boundary = (k + 0.5) * Math.LN2 / 64;
      let previous = exp(boundary - 1e-13);
      for (let step = -99; step <= 100; step++) {
        const x = boundary + step * 1e-15;
        const value = exp(x);
        if (value < previous) decreases.push(x);
        previous = value;
      }
    }
    expect(decreases).toEqual([]);
  });

  it('is exact at 0 and follows Math.exp outside [−700, 700] and for NaN and the infinities', () => {
    expect(exp(0)).toBe(1);
    expect(exp(-0)).toBe(1);
    expect(exp(Number.NaN)).toBeNaN();
    expect(exp(Infinity)).toBe(Infinity);
    expect(exp(-Infinity)).toBe(0);
    expect(exp(710)).toBe(Infinity);
    expect(exp(-746)).toBe(0);
    for (const x of [700.5, 709, -700.5, -744, -708.5]) expect(exp(x)).toBe(Math.exp(x));
  });
});
