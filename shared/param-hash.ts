import { elementwise, mixParams } from './kernel/elementwise.js';
import type { Params } from './network/layout.js';

/** murmur3's 32-bit finalizer: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/**
 * A 64-bit fingerprint of the exact bits of the parameters (weights, then biases), as 16 hex digits. Two runs
 * print the same hash only if every parameter is bit-identical. Not cryptographic.
 *
 * Fast enough to run after every step (JSON mode): the 32-bit words go round-robin to four independent lanes, each
 * h ← xorshift(imul(h ⊕ word, odd)) (elementwise.ts's hashWords, in C where the addon is built), so the CPU runs the
 * four multiply chains side by side (one serial chain was 0.80 ms for the [784,256,256,10] net's 269,322 float64
 * parameters, a fifth of a step; four lanes 0.29 ms). Every lane step is a bijection of the lane's state, so any
 * change to a single word changes the hash; each array's length is mixed in, so moving a value between weights and
 * biases does too. Both output halves depend on all four lanes. The coordinator's per-step hashes (--json) are
 * mixed in the update's own pass instead (sgdStep with hashLanes: the multiplications run beside its memory
 * traffic): 756 steps of [784,256,256,10] took its process 0.3 s less CPU than hashing after each update.
 */
export function paramHash(params: Params): string {
  const lanes = hashLanes();
  mixParams(elementwise.hashWords, lanes, params.weights, params.biases);
  return hashOfLanes(lanes);
}

/** The four lanes in their starting state (sgdStep can mix the parameters it writes into them: sgd.ts). */
export function hashLanes(): Int32Array {
  return Int32Array.of(0x811c9dc5, 0x27d4eb2f, 0x165667b1, 0x9e3779b1);
}

/** The hash of lanes into which the weights and then the biases were mixed. */
export function hashOfLanes(lanes: Int32Array): string {
  const [h0, h1, h2, h3] = lanes;
  // A change confined to one lane changes both sums below (each adds that lane through a bijection: a rotation, or a
  // multiplication by an odd number), and fmix32 is a bijection.
  const high = fmix32(h0 ^ rotl(h1, 8) ^ rotl(h2, 16) ^ rotl(h3, 24));
  const low = fmix32((h0 + Math.imul(h1, 3) + Math.imul(h2, 5) + Math.imul(h3, 7)) | 0);
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}
