import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { gatherSamples, type SampleSet } from '../shared/data/samples.js';
import { loadBundledMnist } from '../shared/data/mnist.js';
import { loadBlasGemm } from '../shared/kernel/blas-gemm.js';
import { DTYPES, sameBits, type Floats } from '../shared/kernel/dtype.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { initParams } from '../shared/network/init.js';
import { createLayout, paramsIn } from '../shared/network/layout.js';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { BAND_VALUES, bandRows } from '../shared/network/weight-tree.js';
import { layerViews, type LayerViews } from '../shared/network/workspace.js';
import { PROTOCOL_VERSION, type BlockSum, type Shard, type ShardData } from '../shared/protocol/messages.js';
import { combineTree, type NodeSum } from '../shared/reduction/combine.js';
import { chunkCount, chunkOffset, nodeKey, rootNode } from '../shared/reduction/tree.js';
import { randomProblem } from '../test/support/random-problem.js';
import { CANONICAL_PLAN, ShardComputer } from './compute.js';

const blas = loadBlasGemm();
/** The kernels a worker may run: the plain one always, OpenBLAS where nblas loads (CI installs it). */
const KERNELS: Gemm[] = blas ? [jsGemm, blas] : [jsGemm];

/** Cut points that split [0, chunks) into contiguous ranges, as any number of workers might get them. */
const splits = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 10 });

function shardOf(samples: ReturnType<typeof randomProblem>['samples'], m: number, chunks: number, start: number, end: number): Shard & ShardData {
  const offset = chunkOffset(m, chunks, start);
  const block = gatherSamples(samples, null, offset, chunkOffset(m, chunks, end) - offset);
  return {
    type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 0, version: 0, batchSize: m, chunks, chunkStart: start, chunkEnd: end,
    x: block.x, xDivisor: block.xDivisor, labels: block.labels, y: null,
  };
}

function copy(block: BlockSum): NodeSum {
  return { cost: block.cost, nablaW: block.nablaW.slice(), nablaB: block.nablaB.slice() };
}

function expectSameBits(actual: NodeSum, expected: NodeSum): void {
  expect(sameBits(actual.nablaW, expected.nablaW)).toBe(true);
  expect(sameBits(actual.nablaB, expected.nablaB)).toBe(true);
  expect(actual.cost).toBe(expected.cost);
}

/** Every chunk range [start, end) of one mini-batch: `computer`, with its probed plan, gives the canonical blocks. */
function expectCanonicalForEveryRange(
  computer: ShardComputer, replica: LayerViews<Floats>, samples: SampleSet, m: number, chunks: number,
): void {
  const canonical = new ShardComputer(computer.layout, computer.gemm, computer.cost, computer.dtype);
  for (let start = 0; start < chunks; start++) {
    for (let end = start + 1; end <= chunks; end++) {
      const shard = shardOf(samples, m, chunks, start, end);
      const expected = canonical.computeWith(CANONICAL_PLAN, replica, shard, shard).map((block) => ({ ...block, ...copy(block) }));
      const actual = computer.compute(replica, shard, shard);
      expect(actual.map((block) => nodeKey(block))).toEqual(expected.map((block) => nodeKey(block)));
      actual.forEach((block, i) => expectSameBits(block, expected[i]));
    }
  }
}

describe.each(KERNELS.flatMap((gemm) => DTYPES.map((dtype) => [gemm.name, gemm, dtype] as const)))('ShardComputer with the fixed reduction tree, %s kernel, in %s', (_name, gemm, dtype) => {
  test.prop([fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 16 }), splits], { numRuns: 60 })(
    'gives bit-identical sums however the chunks are split among workers',
    (seed, m, maxChunks, cuts) => {
      const { layout, params, samples } = randomProblem(seed, [6, 5, 3], m);
      const chunks = chunkCount(m, maxChunks);
      const replica = layerViews(layout, paramsIn(params, dtype));
      const reduce = (boundaries: number[]): NodeSum => {
        const sums = new Map<string, NodeSum>();
        for (let i = 0; i + 1 < boundaries.length; i++) {
          // A fresh computer per range, as on a different worker.
          const shard = shardOf(samples, m, chunks, boundaries[i], boundaries[i + 1]);
          const blocks = new ShardComputer(layout, gemm, 'quadratic', dtype).compute(replica, shard, shard);
          for (const block of blocks) sums.set(nodeKey(block), copy(block));
        }
        return combineTree(rootNode(chunks), chunks, sums);
      };
      const single = reduce([0, chunks]);
      const points = [...new Set(cuts.map((c) => c % chunks).filter((c) => c > 0))].sort((a, b) => a - b);
      const split = reduce([0, ...points, chunks]);
      expectSameBits(split, single);
      expect(split.nablaW).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
      // The definition: every chunk its own pass, whatever plan the computer probed for this kernel.
      const whole = shardOf(samples, m, chunks, 0, chunks);
      const canonical = new ShardComputer(layout, gemm, 'quadratic', dtype).computeWith(CANONICAL_PLAN, replica, whole, whole);
      expectSameBits(single, combineTree(rootNode(chunks), chunks, new Map(canonical.map((block) => [nodeKey(block), copy(block)]))));
    },
  );
});

/**
 * A test double, because no real kernel here misbehaves this way: jsGemm, except that a forward product (a·wᵀ) over
 * more than `rows` rows sums each dot product backwards, as a BLAS may when it picks another inner kernel for larger
 * calls. Results stay correct to rounding; only the bits change with the call's row count.
 */
function roundsByRowCount(rows: number): Gemm {
  return {
    name: 'js-rounds-by-rows',
    axpy: jsGemm.axpy,
    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      if (transA || !transB || m <= rows) return jsGemm.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = k - 1; p >= 0; p--) sum += a[i * lda + p] * b[j * ldb + p];
          c[i * ldc + j] = alpha * sum + (beta === 0 ? 0 : beta * c[i * ldc + j]);
        }
      }
    },
  };
}

describe('ShardComputer.planFor: the fastest way to the canonical bits on this kernel', () => {
  const layout = createLayout([6, 5, 3]);

  test('jsGemm: blocks of any size in one pass (its rows are independent loops), but no pair sum inside the GEMM (it adds each product into C as it goes)', () => {
    expect(new ShardComputer(layout, jsGemm, 'quadratic', 'float64').planFor(16, 8)).toEqual({ groupLevel: 3, accumulatePairs: false, bandValues: BAND_VALUES });
    expect(new ShardComputer(layout, jsGemm, 'quadratic', 'float64').planFor(16, 1)).toEqual({ groupLevel: 0, accumulatePairs: false, bandValues: 0 });
  });

  test('a kernel whose δᵀ·a rounds otherwise for a band of rows than for the whole matrix gets no bands, and the canonical bits', () => {
    const layout = createLayout([600, 70, 3]); // a band of BAND_VALUES values holds 48 of the first layer's 70 rows of ∇w
    expect(bandRows(600, 70, BAND_VALUES)).toBe(48);
    const computer = new ShardComputer(layout, roundsByBand(70), 'quadratic', 'float64');
    // Chunks of 4 rows: a sum of two products is the same both ways round, of four not.
    expect(computer.planFor(32, 8)).toEqual({ groupLevel: 3, accumulatePairs: false, bandValues: 0 });
    const { params, samples } = randomProblem(5, [600, 70, 3], 32);
    const replica = layerViews(layout, params);
    expectCanonicalForEveryRange(computer, replica, samples, 32, 8);
    // … where bands would have changed them.
    const whole = shardOf(samples, 32, 8, 0, 8);
    const canonical = computer.computeWith(CANONICAL_PLAN, replica, whole, whole).map(copy)[0];
    const banded = computer.computeWith({ groupLevel: 3, accumulatePairs: false, bandValues: BAND_VALUES }, replica, whole, whole)[0];
    expect(sameBits(banded.nablaW, canonical.nablaW)).toBe(false);
  });

  test.each(DTYPES)('bands of any size, down to one row, sum ∇w to the canonical bits (jsGemm, %s)', (dtype) => {
    const { params, samples } = randomProblem(11, [6, 5, 3], 37);
    const replica = layerViews(layout, paramsIn(params, dtype));
    const computer = new ShardComputer(layout, jsGemm, 'quadratic', dtype);
    const canonical = new ShardComputer(layout, jsGemm, 'quadratic', dtype);
    for (const bandValues of [1, 7, 13, 30]) {
      for (const groupLevel of [1, 2, 3]) {
        const plan = { groupLevel, accumulatePairs: false, bandValues };
        for (let start = 0; start < 8; start++) {
          for (let end = start + 1; end <= 8; end++) {
            const shard = shardOf(samples, 37, 8, start, end);
            const expected = canonical.computeWith(CANONICAL_PLAN, replica, shard, shard).map(copy);
            computer.computeWith(plan, replica, shard, shard).forEach((block, i) => expectSameBits(block, expected[i]));
          }
        }
      }
    }
  });

  test('a kernel whose rounding changes above 4 rows a call gets blocks of at most 4 rows, and the canonical bits for every range', () => {
    const gemm = roundsByRowCount(4);
    const computer = new ShardComputer(layout, gemm, 'quadratic', 'float64');
    expect(computer.planFor(16, 8).groupLevel).toBe(1); // chunks of 2 rows: pairs have 4
    expect(computer.planFor(32, 8).groupLevel).toBe(0); // chunks of 4 rows
    const { params, samples } = randomProblem(7, [6, 5, 3], 16);
    expectCanonicalForEveryRange(computer, layerViews(layout, params), samples, 16, 8);
  });
});

/**
 * A test double, because no real kernel here misbehaves this way: jsGemm, except that a δᵀ·a product (transposed A)
 * of fewer than `rows` rows sums each dot product backwards, as a BLAS may for a call of another shape.
 */
function roundsByBand(rows: number): Gemm {
  return {
    name: 'js-rounds-by-band',
    axpy: jsGemm.axpy,
    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      if (!transA || transB || m >= rows) return jsGemm.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = k - 1; p >= 0; p--) sum += a[p * lda + i] * b[p * ldb + j];
          c[i * ldc + j] = alpha * sum + (beta === 0 ? 0 : beta * c[i * ldc + j]);
        }
      }
    },
  };
}

/** The worker's real jobs: the default one (batch 10 in 2 chunks of 5) and the bench's big net (128 in 8 of 16). */
const REAL_JOBS = [
  { sizes: [784, 30, 10], m: 10, chunks: 2 },
  { sizes: [784, 256, 256, 10], m: 128, chunks: 8 },
].flatMap((job) => DTYPES.map((dtype) => ({ ...job, dtype, name: `[${job.sizes}], batch ${job.m} in ${job.chunks} chunks, ${dtype}` })));

describe.skipIf(blas === null)('ShardComputer on OpenBLAS with MNIST digits', () => {
  const train = loadBundledMnist().train;

  test.each(REAL_JOBS)('$name: every chunk range a worker may get, in several mini-batches, gives the canonical bits with the probed plan', ({ sizes, m, chunks, dtype }) => {
    const layout = createLayout(sizes);
    const computer = new ShardComputer(layout, blas!, 'quadratic', dtype);
    const plan = computer.planFor(m, chunks);
    console.info(`OpenBLAS, [${sizes}] ${dtype}, ${m} in ${chunks} chunks: blocks of ${2 ** plan.groupLevel} chunk(s) a pass, pair sums ${plan.accumulatePairs ? 'inside' : 'outside'} the GEMM, ∇w ${plan.bandValues > 0 ? 'in bands' : 'matrix by matrix'}`);
    for (const [seed, scheme] of [[1, 'standard'], [3, 'scaled']] as const) {
      const replica = layerViews(layout, paramsIn(initParams(layout, seed, scheme), dtype));
      for (let batch = 0; batch < 3; batch++) expectCanonicalForEveryRange(computer, replica, gatherSamples(train, null, batch * m, m), m, chunks);
    }
  });
});
