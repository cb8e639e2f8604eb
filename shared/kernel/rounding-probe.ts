import { createHash } from 'node:crypto';
import type { Floats } from './dtype.js';
import type { Gemm } from './gemm.js';

/**
 * The GEMMs the probe runs: the three forms backprop uses (forward a·wᵀ, BP4 δᵀ·a, BP2 δ·w), with row counts of a
 * chunk (1 to 16), and inner dimensions from 3 to 1,100: beyond the K-blocking of the BLAS kernels we know of
 * (256–512), where a library splits each dot product into partial sums that depend on the CPU it tuned itself for.
 */
const SHAPES: ReadonlyArray<readonly [transA: boolean, transB: boolean, m: number, n: number, k: number]> = [
  [false, true, 1, 30, 784],
  [false, true, 16, 33, 1100],
  [true, false, 30, 784, 16],
  [true, false, 33, 257, 3],
  [false, false, 16, 784, 30],
  [false, false, 3, 40, 1100],
];

const SCALES = [1e-3, 1e-2, 0.1, 1, 10, 100, 1000];

/**
 * A fingerprint of how `gemm` rounds, 16 hex digits: the SHA-256 of its results on fixed inputs of both float types.
 * Two kernels that give the same fingerprint agree bit for bit on these products; two that differ do not, so their
 * workers' chunk sums would differ too. OpenBLAS picks its inner kernels for the CPU it runs on (and an
 * OPENBLAS_CORETYPE), so "openblas" on two machines can round differently although its name is the same: workers send
 * this with their kernel's name and the coordinator warns when those whose results it used differ (cluster.ts).
 * Runs once per worker process, in a few milliseconds.
 */
export function roundingFingerprint(gemm: Gemm): string {
  const hash = createHash('sha256');
  for (const Type of [Float64Array, Float32Array]) {
    let state = 0x2545f491;
    // Values from 1e-3 to 1e4 in magnitude, of both signs: a sum in another order rounds differently.
    const fill = (array: Floats): Floats => {
      for (let i = 0; i < array.length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        array[i] = (state & 1 ? -1 : 1) * (1 + (state >>> 8) / 2 ** 24) * SCALES[(state >>> 1) % SCALES.length];
      }
      return array;
    };
    for (const [transA, transB, m, n, k] of SHAPES) {
      const a = fill(new Type(m * k)), b = fill(new Type(k * n)), c = new Type(m * n);
      gemm.gemm(transA, transB, m, n, k, 1, a, transA ? m : k, b, transB ? k : n, 0, c, n);
      hash.update(new Uint8Array(c.buffer));
    }
  }
  return hash.digest('hex').slice(0, 16);
}
