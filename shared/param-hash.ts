import type { Params } from './network/layout.js';

/**
 * A 64-bit fingerprint of the exact bits of the parameters (weights, then biases), as 16 hex digits.
 * Two runs print the same hash only if every parameter is bit-identical. Not cryptographic: two 32-bit
 * multiply–xorshift lanes over the 32-bit words, fast enough to run after every step.
 */
export function paramHash(params: Params): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x27d4eb2f | 0;
  for (const array of [params.weights, params.biases]) {
    const words = new Uint32Array(array.buffer, array.byteOffset, array.length * 2);
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      h1 = Math.imul(h1 ^ w, 0x01000193);
      h2 = Math.imul(h2 ^ w, 0x85ebca6b);
      h2 ^= h2 >>> 13;
    }
    h1 = Math.imul(h1 ^ array.length, 0x01000193);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0xc2b2ae35);
  return (h1 >>> 0).toString(16).padStart(8, '0') + ((h2 ^ (h2 >>> 15)) >>> 0).toString(16).padStart(8, '0');
}
