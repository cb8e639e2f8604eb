/**
 * Section 1: the worker's backprop kernel alone, in this process, on one thread.
 * - plain: one batched backprop over the whole mini-batch (loadRows + backpropSums, as the worker would do without
 *   fixed chunks);
 * - deterministic: the worker's real path, ShardComputer.compute over the full chunk range (the bits of each fixed
 *   chunk computed separately, then the chunk sums added along the fixed tree, by the plan probed for the kernel).
 * - deterministic with TypeScript loops: the same with the elementwise loops (σ, BP2's σ', BP3, input scaling) in
 *   TypeScript instead of the C addon (shared/kernel/elementwise.ts), when the addon is loaded: what it is worth.
 * The modes are interleaved round by round so background load hits them alike; each rate is the median of its rounds.
 */
import { DTYPES, newFloats, type Dtype, type Floats } from '../shared/kernel/dtype.js';
import { loadBundledMnist } from '../shared/data/mnist.js';
import { gatherSamples, loadRows, type SampleSet } from '../shared/data/samples.js';
import { elementwise, jsElementwise, nativeElementwise, useElementwise } from '../shared/kernel/elementwise.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { selectGemm } from '../shared/kernel/select.js';
import { backpropSums } from '../shared/network/backprop.js';
import { initParams } from '../shared/network/init.js';
import { outputSize, paramsIn, zeroParams } from '../shared/network/layout.js';
import { createWorkspace, layerViews } from '../shared/network/workspace.js';
import { PROTOCOL_VERSION, type Shard, type ShardData } from '../shared/protocol/messages.js';
import { chunkCount, defaultMaxChunks } from '../shared/reduction/tree.js';
import { type ComputePlan, ShardComputer } from '../worker/compute.js';
import { contentionBetween, fmtContention, measureQuietly, snapshot, type Contention } from './contention.js';
import { exactFlopsPerSample, nominalFlopsPerSample, type NetCase } from './nets.js';
import { measureSigmoid, type SigmoidResult } from './sigmoid.js';
import { median, perSecond, runFor } from './timing.js';

export interface KernelOptions {
  /** Measured milliseconds per (net, kernel, mode), split into `rounds`. */
  budgetMs: number;
  rounds: number;
  warmupMs: number;
  /** Measured milliseconds for the 1024³ dgemm (at least one call is always made). */
  dgemmBudgetMs: number;
}

export interface KernelResult {
  net: string;
  sizes: number[];
  batch: number;
  kernel: string;
  /** What the kernel computed in (float32: sgemm through the same binding). */
  dtype: Dtype;
  chunks: number;
  /** How the worker's path computed the chunks on this kernel (ShardComputer.planFor). */
  plan: ComputePlan;
  plainSamplesPerSecond: number;
  deterministicSamplesPerSecond: number;
  /** The deterministic path with the TypeScript elementwise loops; null when the C addon is not loaded (they ran above). */
  tsLoopsSamplesPerSecond: number | null;
  /** Deterministic with the plan's ∇w bands off (each chunk's ∇w a whole matrix, then the tree), or null if the plan has none. */
  unbandedSamplesPerSecond: number | null;
  /** Which elementwise loops the plain and deterministic rates ran with (Elementwise.description). */
  loops: string;
  /** Time per sample, deterministic / plain (> 1: determinism costs that factor). */
  determinismCost: number;
  plainRounds: number[];
  deterministicRounds: number[];
  nominalFlopsPerSample: number;
  exactFlopsPerSample: number;
  /** Of the deterministic (real worker) path, with the nominal 6·W count. */
  gflopsNominal: number;
  gflopsExact: number;
  /** gflopsNominal / the same kernel's 1024³ gemm GFLOPS in the same type, measured in this run. */
  fractionOfDgemm: number;
  /** The same two numbers for the plain batched pass. */
  gflopsNominalPlain: number;
  fractionOfDgemmPlain: number;
  /** Largest |plain − deterministic| / max|plain| over ∇w of one mini-batch: both paths compute the same sums. */
  agreement: number;
  /** Other processes' CPU use during this (net, kernel) block. */
  contention: Contention | null;
}

export interface DgemmResult {
  kernel: string;
  dtype: Dtype;
  n: number;
  calls: number;
  gflops: number;
  threads: number | undefined;
  contention: Contention | null;
}

export interface KernelSection {
  kernels: { name: string; available: boolean; note: string }[];
  dgemm: DgemmResult[];
  results: KernelResult[];
  sigmoid: SigmoidResult;
}

interface KernelEntry {
  name: string;
  available: boolean;
  note: string;
  gemm?: Gemm;
}

/** Loads the kernels to compare: js always, openblas when nblas loads. */
export function availableKernels(): KernelEntry[] {
  const list: KernelEntry[] = [{ name: 'js', available: true, note: 'plain TypeScript loops', gemm: selectGemm('js') }];
  try {
    const blas = selectGemm('blas') as Gemm & { threads?: number };
    list.push({ name: blas.name, available: true, note: `nblas → cblas_dgemm, OPENBLAS_NUM_THREADS=${blas.threads ?? '?'}`, gemm: blas });
  } catch (error) {
    const cause = (error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message.split('\n')[0]})` : '';
    list.push({ name: 'blas', available: false, note: `skipped: ${(error as Error).message}${cause}` });
  }
  return list;
}

export async function runKernelSection(
  nets: readonly NetCase[], options: KernelOptions, log: (line: string) => void, gate: () => Promise<void>, budget: { leftMs: number },
): Promise<KernelSection> {
  const kernels = availableKernels();
  const dgemm: DgemmResult[] = [];
  const results: KernelResult[] = [];
  for (const k of kernels) {
    if (!k.available || !k.gemm) {
      log(`  ${k.name}: ${k.note}`);
      continue;
    }
    const gemm = k.gemm;
    // float32 where it pays: sgemm through the binding (the JS loops compute float32 no faster than float64).
    for (const dtype of k.name === 'js' ? ['float64' as const] : DTYPES) {
      const d = await measureQuietly(() => measureDgemm(gemm, 1024, options.dgemmBudgetMs, dtype), gate, budget);
      dgemm.push(d);
      log(`  ${k.name}: ${gemmRoutine(dtype)} 1024³ ${d.gflops.toFixed(2)} GFLOPS (${d.calls} call${d.calls === 1 ? '' : 's'}; other CPU ${fmtContention(d.contention)}${d.retried ? ', re-measured' : ''})`);
      for (const net of nets) {
        const r = await measureQuietly(() => measureNet(net, gemm, d.gflops, options, dtype), gate, budget);
        results.push(r);
        const ts = r.tsLoopsSamplesPerSecond === null ? '' : `, with TypeScript loops ${Math.round(r.tsLoopsSamplesPerSecond)}/s`;
        log(`  ${k.name} ${dtype} ${net.label}: plain ${Math.round(r.plainSamplesPerSecond)}/s, deterministic ${Math.round(r.deterministicSamplesPerSecond)}/s${ts}` +
          ` (other CPU ${fmtContention(r.contention)}${r.retried ? ', re-measured' : ''})`);
      }
    }
  }
  const sigmoid = await measureQuietly(() => measureSigmoid(options.budgetMs, options.rounds * 2), gate, budget);
  return { kernels: kernels.map(({ name, available, note }) => ({ name, available, note })), dgemm, results, sigmoid };
}

/** C = A·B for n×n matrices through the kernel's validated gemm (dgemm or sgemm), after one untimed warm-up call on a smaller size. */
export function measureDgemm(gemm: Gemm, n: number, budgetMs: number, dtype: Dtype): DgemmResult {
  const of = (x: Float64Array): Floats => (dtype === 'float32' ? Float32Array.from(x) : x);
  const a = of(randomMatrix(n * n, 1)), b = of(randomMatrix(n * n, 2)), c = newFloats(dtype, n * n);
  const warm = Math.min(n, 256);
  gemm.gemm(false, false, warm, warm, warm, 1, a, warm, b, warm, 0, c, warm);
  const before = snapshot();
  const t = runFor(budgetMs, () => {
    gemm.gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    return 1;
  });
  return { kernel: gemm.name, dtype, n, calls: t.units, gflops: (2 * n ** 3 * t.units) / (t.ms * 1e6), threads: (gemm as { threads?: number }).threads,
    contention: contentionBetween(before, snapshot()) };
}

function measureNet(net: NetCase, gemm: Gemm, dgemmGflops: number, options: KernelOptions, dtype: Dtype): KernelResult {
  const { layout, batch: m } = net;
  const nOut = outputSize(layout);
  const chunks = chunkCount(m, defaultMaxChunks(m));
  const train = loadBundledMnist().train;
  const batches = Math.floor(train.count / m);
  const sets: SampleSet[] = [];
  const shards: Array<Shard & ShardData> = [];
  for (let t = 0; t < batches; t++) {
    const set = gatherSamples(train, null, t * m, m);
    sets.push(set);
    shards.push({
      type: 'shard', v: PROTOCOL_VERSION, step: t, shardId: t, version: 0, batchSize: m, chunks, chunkStart: 0, chunkEnd: chunks,
      x: set.x, xDivisor: set.xDivisor, labels: set.labels, y: set.y,
    });
  }
  const replica = layerViews(layout, paramsIn(initParams(layout, 1), dtype));

  // plain: the whole mini-batch in one batched pass
  const ws = createWorkspace(layout, m, dtype);
  const nabla = layerViews(layout, zeroParams(layout, dtype));
  let tPlain = 0;
  const plain = (): number => {
    const set = sets[tPlain++ % batches];
    loadRows(set, null, 0, m, ws.activations[0], ws.targets, nOut);
    backpropSums(gemm, replica, ws, m, nabla, 'quadratic');
    return m;
  };
  // deterministic: the worker's real path
  const computer = new ShardComputer(layout, gemm, 'quadratic', dtype);
  let tDet = 0;
  let lastBlocks = computer.compute(replica, shards[0], shards[0]);
  const deterministic = (): number => {
    const shard = shards[tDet++ % batches];
    lastBlocks = computer.compute(replica, shard, shard); // the shard carries its own samples
    return m;
  };

  // Agreement on mini-batch 0 (before timing, so both see the same batch).
  tPlain = 0;
  plain();
  tDet = 0;
  deterministic();
  const agreement = relativeDifference(nabla.params.weights, lastBlocks[0].nablaW);

  runFor(options.warmupMs, plain);
  runFor(options.warmupMs, deterministic);
  const before = snapshot();
  const plainRounds: number[] = [];
  const detRounds: number[] = [];
  const tsRounds: number[] = [];
  // In this process, as in a worker, the loops see both float types (and here both kernels): the TypeScript ones run
  // as V8 compiles such polymorphic code, the C ones are unaffected.
  const loops = elementwise;
  const withTsLoops = (): number => {
    useElementwise(jsElementwise);
    try {
      return deterministic();
    } finally {
      useElementwise(loops);
    }
  };
  const unbandedPlan = { ...computer.planFor(m, chunks), bandValues: 0 };
  const unbanded = (): number => {
    const shard = shards[tDet++ % batches];
    computer.computeWith(unbandedPlan, replica, shard, shard);
    return m;
  };
  const unbandedRounds: number[] = [];
  const modes: Array<[() => number, number[]]> = [[plain, plainRounds], [deterministic, detRounds]];
  const timesUnbanded = computer.planFor(m, chunks).bandValues > 0;
  if (timesUnbanded) {
    runFor(options.warmupMs, unbanded);
    modes.push([unbanded, unbandedRounds]);
  }
  const timesTsLoops = loops === nativeElementwise;
  if (timesTsLoops) {
    runFor(options.warmupMs, withTsLoops);
    modes.push([withTsLoops, tsRounds]);
  }
  const perRound = options.budgetMs / options.rounds / modes.length;
  for (let r = 0; r < options.rounds; r++) {
    // Rotate which goes first, so a burst of background load is not always charged to the same mode.
    for (let i = 0; i < modes.length; i++) {
      const [run, rounds] = modes[(r + i) % modes.length];
      rounds.push(perSecond(runFor(perRound, run)));
    }
  }
  const contention = contentionBetween(before, snapshot());
  const plainSps = median(plainRounds);
  const detSps = median(detRounds);
  const nominal = nominalFlopsPerSample(layout);
  const exact = exactFlopsPerSample(layout);
  const gflopsNominal = (detSps * nominal) / 1e9;
  return {
    net: net.label, sizes: [...net.sizes], batch: m, kernel: gemm.name, dtype, chunks, plan: computer.planFor(m, chunks),
    plainSamplesPerSecond: plainSps, deterministicSamplesPerSecond: detSps, determinismCost: plainSps / detSps,
    tsLoopsSamplesPerSecond: timesTsLoops ? median(tsRounds) : null, loops: loops.description,
    unbandedSamplesPerSecond: timesUnbanded ? median(unbandedRounds) : null,
    plainRounds, deterministicRounds: detRounds,
    nominalFlopsPerSample: nominal, exactFlopsPerSample: exact,
    gflopsNominal, gflopsExact: (detSps * exact) / 1e9, fractionOfDgemm: gflopsNominal / dgemmGflops,
    gflopsNominalPlain: (plainSps * nominal) / 1e9, fractionOfDgemmPlain: (plainSps * nominal) / 1e9 / dgemmGflops, agreement, contention,
  };
}

function relativeDifference(a: Floats, b: Floats): number {
  let scale = 0, diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Deterministic values in [0, 1) (a tiny LCG; the values do not matter, only that they are not denormal). */
function randomMatrix(length: number, seed: number): Float64Array {
  const out = new Float64Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** The BLAS routine a dtype's matrix products use, as the bench names them. */
export const gemmRoutine = (dtype: Dtype): string => (dtype === 'float32' ? 'sgemm' : 'dgemm');
