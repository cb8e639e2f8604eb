import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { loadBundledMnist } from './mnist.js';

function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

describe('loadBundledMnist', () => {
  it('splits the bundled digits into 8000 train and 2000 test samples of 784 pixels', () => {
    const { train, test } = loadBundledMnist();
    expect(train.count).toBe(8000);
    expect(test.count).toBe(2000);
    for (const set of [train, test]) {
      expect(set.inputSize).toBe(784);
      expect(set.targetSize).toBe(10);
      expect(set.xDivisor).toBe(1000);
      expect(set.x).toBeInstanceOf(Uint16Array);
      expect(set.x.length).toBe(set.count * 784);
      expect(set.labels).toBeInstanceOf(Uint16Array);
      expect(set.y).toBeNull();
    }
  });

  it('has labels 0..9, every class in both splits', () => {
    for (const set of Object.values(loadBundledMnist())) {
      const seen = new Set(set.labels as Uint16Array);
      expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('gives values in [0,1] after division, reaching both ends', () => {
    const { train } = loadBundledMnist();
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < train.x.length; i++) {
      const v = train.x[i] / train.xDivisor;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('mixes the classes instead of keeping them in class order', () => {
    const labels = loadBundledMnist().train.labels as Uint16Array;
    expect(new Set(labels.subarray(0, 100)).size).toBe(10);
  });

  it('returns the same split on every call', async () => {
    const first = loadBundledMnist();
    expect(loadBundledMnist()).toBe(first);
    // A fresh module instance rebuilds the split from the files and the fixed seed: it must match exactly.
    vi.resetModules();
    const fresh = (await import('./mnist.js')).loadBundledMnist();
    expect(fresh === first).toBe(false); // not .not.toBe: on distinct objects it deep-compares them for its message
    // Byte comparison: toEqual walks millions of elements one by one and takes minutes.
    for (const part of ['train', 'test'] as const) {
      expect(bytesOf(fresh[part].labels as Uint16Array).equals(bytesOf(first[part].labels as Uint16Array))).toBe(true);
      expect(bytesOf(fresh[part].x).equals(bytesOf(first[part].x))).toBe(true);
    }
  });

  it('shows the network exactly the numbers of the package', () => {
    const zeros = createRequire(import.meta.url)('mnist/src/digits/0.json') as { data: number[] };
    const { train, test } = loadBundledMnist();
    // The first image of digit 0 is somewhere in one of the splits; find it by content.
    const image = zeros.data.slice(0, 784);
    const found = [train, test].some((set) => {
      for (let s = 0; s < set.count; s++) {
        let isSame = true;
        for (let k = 0; k < 784 && isSame; k++) isSame = set.x[s * 784 + k] / set.xDivisor === image[k];
        if (isSame) return (set.labels as Uint16Array)[s] === 0;
      }
      return false;
    });
    expect(found).toBe(true);
  });
});
