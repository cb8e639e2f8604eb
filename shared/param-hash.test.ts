import { describe, expect, it } from 'vitest';
import { jsElementwise, nativeElementwise } from './kernel/elementwise.js';
import { hashLanes, hashOfLanes, paramHash } from './param-hash.js';

const params = (weights: number[], biases: number[]) => ({ weights: new Float64Array(weights), biases: new Float64Array(biases) });

const values = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(seed + i * 1.7) * 0.3);

describe('paramHash', () => {
  it('is 16 hex digits, the same for the same bits', () => {
    const a = params(values(23, 1), values(5, 2));
    expect(paramHash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(paramHash(a)).toBe(paramHash(params(values(23, 1), values(5, 2))));
  });

  it('changes, in both halves, when any single bit of any parameter flips (every word of every lane and the tail)', () => {
    // 7 weights and 3 biases: 14 and 6 words, not multiples of four, so the tail loop is covered.
    const base = params(values(7, 3), values(3, 4));
    const reference = paramHash(base);
    const seen = new Set([reference]);
    for (const array of [base.weights, base.biases]) {
      const bytes = new Uint8Array(array.buffer);
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        bytes[bit >> 3] ^= 1 << (bit & 7);
        const flipped = paramHash(base);
        bytes[bit >> 3] ^= 1 << (bit & 7);
        expect(flipped.slice(0, 8)).not.toBe(reference.slice(0, 8));
        expect(flipped.slice(8)).not.toBe(reference.slice(8));
        seen.add(flipped);
      }
    }
    expect(paramHash(base)).toBe(reference);
    expect(seen.size).toBe(1 + (7 + 3) * 64);
  });

  it('sees order, the split between weights and biases, and negative zero', () => {
    const w = values(8, 5);
    const swapped = [...w];
    [swapped[0], swapped[5]] = [swapped[5], swapped[0]];
    expect(paramHash(params(w, [1]))).not.toBe(paramHash(params(swapped, [1])));
    expect(paramHash(params(w.slice(0, 7), [w[7], 1]))).not.toBe(paramHash(params(w, [1])));
    expect(paramHash(params([0], [0]))).not.toBe(paramHash(params([-0], [0])));
  });

  it('reads a subarray\'s own bytes only', () => {
    const backing = new Float64Array(values(12, 6));
    const view = { weights: backing.subarray(2, 9), biases: backing.subarray(9, 11) };
    expect(paramHash(view)).toBe(paramHash(params([...backing.subarray(2, 9)], [...backing.subarray(9, 11)])));
  });

  // The C loops only where the addon is built (elementwise.test.ts says when it is not).
  const loopsUnderTest = [['TypeScript', jsElementwise] as const, ...(nativeElementwise ? [['C', nativeElementwise] as const] : [])];
  it.each(loopsUnderTest)(
    'is what sgdStep mixes into its lanes while it updates (%s loops): every tail length, float64 and float32 sums, with and without a float32 copy',
    (_, loops) => {
      for (let weights = 1; weights <= 13; weights++) {
        for (const biases of [1, 2, 5]) {
          for (const [Sums, rounded] of [[Float64Array, false], [Float32Array, true], [Float32Array, false]] as const) {
            const updated = params(values(weights, weights), values(biases, biases));
            const lanes = hashLanes();
            loops.sgdStep(updated.weights, updated.biases, Sums.from(values(weights, 7)), Sums.from(values(biases, 8)),
              rounded ? new Float32Array(weights) : null, rounded ? new Float32Array(biases) : null, 0.3, 0.999, lanes);
            expect(hashOfLanes(lanes), `${weights} weights, ${biases} biases`).toBe(paramHash(updated));
          }
        }
      }
    },
  );
});
