import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadBlasGemm } from '../kernel/blas-gemm.js';
import { uniformStream } from '../kernel/gemm-test-support.js';
import { combineTree, type NodeSum } from './combine.js';
import { nodeKey, rootNode } from './tree.js';

const blas = loadBlasGemm();

function leaves(chunks: number, seed: number, weights: number, biases: number): Map<string, NodeSum> {
  const next = uniformStream(seed);
  const sums = new Map<string, NodeSum>();
  for (let c = 0; c < chunks; c++) {
    // Mixed magnitudes, so the order of the additions shows in the last bits.
    const value = (): number => next() * 10 ** Math.round(12 * next() - 6);
    sums.set(nodeKey({ level: 0, index: c }), {
      cost: value(), nablaW: Float64Array.from({ length: weights }, value), nablaB: Float64Array.from({ length: biases }, value),
    });
  }
  return sums;
}

describe('combineTree', () => {
  it('adds left + right at every inner node, in the fixed order', () => {
    const sums = new Map<string, NodeSum>();
    for (const [c, v] of [1e16, 1, -1e16].entries()) sums.set(nodeKey({ level: 0, index: c }), { cost: v, nablaW: Float64Array.of(v), nablaB: Float64Array.of(v) });
    // ((1e16 + 1) + -1e16) = 0 in float64; a left-to-right chain would give the same here, a different tree would not.
    const root = combineTree(rootNode(3), 3, sums);
    expect(root.nablaW[0]).toBe(0);
    expect(root.cost).toBe(0);
  });

  it('refuses sums of different lengths', () => {
    const sums = new Map<string, NodeSum>([
      ['0:0', { cost: 0, nablaW: new Float64Array(3), nablaB: new Float64Array(1) }],
      ['0:1', { cost: 0, nablaW: new Float64Array(2), nablaB: new Float64Array(1) }],
    ]);
    expect(() => combineTree(rootNode(2), 2, sums)).toThrow(/cannot add a sum of 2\+1 values into one of 3\+1/);
  });

  describe.skipIf(blas === null)('with the OpenBLAS kernel', () => {
    test.prop([fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 3000 })], { numRuns: 40 })(
      'gives the same bits with the OpenBLAS daxpy as with JS additions',
      (chunks, seed, weights) => {
        const viaJs = combineTree(rootNode(chunks), chunks, leaves(chunks, seed, weights, 30));
        const viaBlas = combineTree(rootNode(chunks), chunks, leaves(chunks, seed, weights, 30), blas!);
        expect(Buffer.from(viaBlas.nablaW.buffer).equals(Buffer.from(viaJs.nablaW.buffer))).toBe(true);
        expect(Buffer.from(viaBlas.nablaB.buffer).equals(Buffer.from(viaJs.nablaB.buffer))).toBe(true);
        expect(Object.is(viaBlas.cost, viaJs.cost)).toBe(true);
      },
    );
  });
});
