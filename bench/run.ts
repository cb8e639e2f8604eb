/**
 * `npm run bench` (after `npm run build`): one invocation, every number measured in the same run, so every claim
 * below is a ratio of two measurements taken minutes apart on the same machine under the same load.
 *
 *   1. kernel alone: the worker's backprop (plain batched vs the deterministic chunked path), GFLOPS vs a 1024³ gemm,
 *      float64 and (OpenBLAS) float32
 *   2. end to end: real `nabla train --json` runs with 1 and 2 local workers, float64 and --dtype float32
 *   3. peers: the seed in numpy, numpy batched (1 BLAS thread; and 2 on the big net), PyTorch single process and DDP
 *      (gloo, 2 × 1 thread)
 *   4. a table per net, and bench/results/latest.json
 *
 * Options: --quick (shorter budgets, fewer runs), --only kernel,e2e,peers (a subset of sections).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtContention, isSuspect, measureQuietly, SUSPECT_CORES, waitForQuiet, type Contention } from './contention.js';
import { poolRuns, runE2e, type E2eConfig, type E2eResult } from './e2e.js';
import { gemmRoutine, runKernelSection, type KernelSection } from './kernel.js';
import { exactFlopsPerSample, NETS, nominalFlopsPerSample, type NetCase } from './nets.js';
import {
  exportTrainingData, NUMPY_2_THREADS_ID, peerSpecs, planPeers, probePythons, removeData, runPeer, type PeerPlan, type PeerResult,
} from './peers.js';
import { fmtRate, fmtRatio, table } from './timing.js';
import type { ComputePlan } from '../worker/compute.js';
import { DTYPES, type Dtype } from '../shared/kernel/dtype.js';
import { nativeElementwise } from '../shared/kernel/elementwise.js';
import { chooseCoreType, describeCore } from '../shared/kernel/openblas-core.js';
import type { FanOutMode } from '../coordinator/fan-out.js';
import { defaultMaxChunks } from '../shared/reduction/tree.js';

const resultsPath = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));

interface Options {
  quick: boolean;
  sections: Set<string>;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const onlyIndex = argv.indexOf('--only');
  const sections = new Set(onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? '').split(',') : ['kernel', 'e2e', 'peers']);
  for (const arg of argv) {
    if (arg.startsWith('--') && !['--quick', '--only'].includes(arg)) {
      console.error(`bench: unknown option ${arg}; use --quick and/or --only kernel,e2e,peers`);
      process.exit(2);
    }
  }
  return { quick, sections };
}

const say = (line = ''): void => { process.stdout.write(line + '\n'); };

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { quick } = options;
  const started = Date.now();
  const load0 = loadavg();
  say(`Nabla bench — ${new Date().toISOString()}${quick ? ' (--quick)' : ''}`);
  say(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; node ${process.version}; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}`);
  say(`nets: ${NETS.map((n) => n.label).join(' and ')}; data: the bundled MNIST digits (8000 training rows)`);
  const quietBudget = { leftMs: quick ? 15_000 : 45_000 };
  let waitedMs = 0;
  const gate = async (): Promise<void> => { waitedMs += await waitForQuiet(quick ? 4000 : 10_000, quietBudget); };
  // As nabla itself does when it loads OpenBLAS, and here before any child starts: Debian's numpy and PyTorch load the
  // same OpenBLAS 0.3.21 as nblas, so they run the same kernels as Nabla (a CPU newer than that release otherwise
  // gets its SSE3 fallback, 5× slower, in all three).
  const core = chooseCoreType();
  say(`OpenBLAS core type: ${core ? describeCore(core) : '(OpenBLAS detects)'}; OPENBLAS_L2_SIZE=${process.env.OPENBLAS_L2_SIZE ?? '(unset)'}; ` +
    'the same for Node, Debian\'s numpy and PyTorch; both unset for the current numpy only (its newer OpenBLAS detects the CPU)');

  // ── 1. Kernel ───────────────────────────────────────────────────────────────────────────────────────────────
  let kernel: KernelSection | null = null;
  if (options.sections.has('kernel')) {
    say();
    say('── 1. Kernel alone: one thread, this process, gradient sums of one mini-batch (no update) ──');
    kernel = await runKernelSection(NETS, quick
      ? { budgetMs: 1200, rounds: 3, warmupMs: 150, dgemmBudgetMs: 300 }
      : { budgetMs: 3000, rounds: 3, warmupMs: 300, dgemmBudgetMs: 1000 }, (line) => say(line), gate, quietBudget);
    say(`  nblas loads: ${blasLibrariesInThisProcess().join(', ') || '(no BLAS library mapped)'}`);
    say();
    say(table([
      ['net', 'kernel', 'chunks', 'plan', 'plain/s', 'determ./s', 'TS loops/s', 'C loops ×', 'bands ×', 'det/plain time', 'GFLOPS 6W plain|det', 'det exact', 'gemm 1024³', 'of gemm plain|det', 'agree', 'other CPU'],
      ...kernel.results.map((r) => {
        const d = kernel?.dgemm.find((x) => x.kernel === r.kernel && x.dtype === r.dtype);
        return [r.net, kernelLabel(r.kernel, r.dtype), String(r.chunks), fmtPlan(r.plan), fmtRate(r.plainSamplesPerSecond), fmtRate(r.deterministicSamplesPerSecond),
          r.tsLoopsSamplesPerSecond === null ? '—' : fmtRate(r.tsLoopsSamplesPerSecond),
          r.tsLoopsSamplesPerSecond === null ? '—' : fmtRatio(r.deterministicSamplesPerSecond / r.tsLoopsSamplesPerSecond),
          r.unbandedSamplesPerSecond === null ? '—' : fmtRatio(r.deterministicSamplesPerSecond / r.unbandedSamplesPerSecond),
          fmtRatio(r.determinismCost), `${r.gflopsNominalPlain.toFixed(2)} | ${r.gflopsNominal.toFixed(2)}`, r.gflopsExact.toFixed(2),
          d ? d.gflops.toFixed(2) : '—', `${(r.fractionOfDgemmPlain * 100).toFixed(0)}% | ${(r.fractionOfDgemm * 100).toFixed(0)}%`, r.agreement.toExponential(0),
          fmtContention(r.contention)];
      }),
    ]));
    say('  plain = loadRows + one backpropSums over the whole mini-batch; determ. = ShardComputer.compute over chunks 0..K');
    say('  (the bits of each fixed chunk as its own batched pass, chunk sums added along the fixed tree): the worker\'s real path.');
    say('  plan = how it gets those bits on this kernel, probed bit for bit at the first shard (worker/plan-probe.ts): "G/pass"');
    say('  = aligned blocks of G chunks share one forward pass and BP2; "+pairs" = an odd chunk\'s ∇w added by the GEMM (beta = 1);');
    say('  "+bands" = a block\'s ∇w summed along the tree in cache-sized bands of rows.');
    say(`  TS loops = determ. with the elementwise loops (σ, σ', bias sums, input scaling) in TypeScript instead of the C addon`);
    say(`  (shared/kernel/elementwise.ts; same bits); C loops × = determ. ÷ TS loops. Rates above ran with the ${kernel.results[0]?.loops ?? '?'}.`);
    say('  bands × = determ. ÷ determ. without the plan\'s ∇w bands (each chunk\'s ∇w a whole matrix, then the tree: more memory');
    say('  traffic, same bits; shared/network/weight-tree.ts).');
    say('  det/plain time = time per sample deterministic ÷ plain: the cost of bit-identical results in the kernel.');
    say(`  GFLOPS 6W: 6 × weightCount flops per sample (2 for w·a forward, 4 for δᵀ·a and δ·w backward); det exact: the`);
    say(`  deterministic path counted as 6W − 2W₁ (no δ·w for the first layer): ${NETS.map((n) => `${n.label} ${nominalFlopsPerSample(n.layout)} vs ${exactFlopsPerSample(n.layout)}`).join('; ')}.`);
    say('  of gemm = GFLOPS 6W ÷ a 1024³ gemm (C = A·B, 2n³ flops; dgemm, or sgemm for f32) through the same validated binding, in this run.');
    say('  agree = max|Δ∇w| / max|∇w| between plain and deterministic on one mini-batch (same sums, other rounding order).');
    const { oursNs, mathExpNs, speedup, nativeNs, contention } = kernel.sigmoid;
    const inC = nativeNs === null ? '' : `; the C loop (same bits) ${nativeNs.toFixed(2)} ns: ${fmtRatio(oursNs / nativeNs)} the TypeScript one`;
    say(`  sigmoid of a 128×256 layer (as feedforward computes it), in TypeScript: exp.ts ${oursNs.toFixed(2)} ns a value, ` +
      `Math.exp ${mathExpNs.toFixed(2)} ns (${fmtRatio(speedup)})${inC} (interleaved rounds, medians; other CPU ${fmtContention(contention)})`);
  }

  // ── 2. End to end ────────────────────────────────────────────────────────────────────────────────────────────
  const e2e: E2eResult[] = [];
  if (options.sections.has('e2e')) {
    say();
    say('── 2. End to end: `nabla train --json --workers W` (coordinator + W local worker processes over loopback WebSocket) ──');
    for (const group of e2eGroups(quick)) {
      if ('skip' in group) {
        say(`  ${group.skip}`);
        continue;
      }
      // Rounds interleave the configurations (W=1, W=2…, W=1, W=2…) so slow drift hits all alike.
      const slots = workerSlots(group);
      const runs = slots.map((): E2eResult[] => []);
      for (let round = 0; round < group.rounds; round++) {
        for (const [i, { workers, fanOut, shm, chunks, tsLoops }] of slots.entries()) {
          const config: E2eConfig = { net: group.net, workers, kernel: group.kernel, dtype: group.dtype, fanOut, shm, chunks, tsLoops, epochs: group.epochs };
          const r = await measureQuietly(() => runE2e(config, 180_000), gate, quietBudget);
          runs[i].push(r);
          say(`  ${r.tsLoops ? 'NABLA_NATIVE=off ' : ''}${r.net} W=${r.workers} --fan-out ${r.fanOut}${r.shm ? '' : ' --no-shm'}${r.chunks === null ? '' : ` --chunks ${r.chunks}`} --kernel ${r.kernelOption} --dtype ${r.dtype} (${r.kernel ?? '?'}) round ${round + 1}/${group.rounds}: epochs ${r.epochRates.map((x) => Math.round(x)).join(', ')} samples/s; ` +
            `${r.fanOutChosen === null ? '' : `auto chose ${r.fanOutChosen} of ${r.workers}; `}${r.wallSeconds.toFixed(1)} s wall; other CPU ${fmtContention(r.contention)}${r.retried ? ' (re-measured)' : ''}${r.error ? `; ERROR ${r.error}` : ''}`);
        }
      }
      for (const slot of runs) e2e.push(poolRuns(slot));
    }
    say();
    const rows: string[][] = [['net', 'kernel', 'workers', 'samples/s', 'W=2 ÷ W=1', 'epochs used', 'wire KiB/step', 'test acc.', 'paramHash', 'other CPU']];
    for (const r of e2e) {
      const one = e2e.find((x) => x.net === r.net && x.kernelOption === r.kernelOption && x.dtype === r.dtype && x.workers === 1 && x.chunks === null && !x.tsLoops);
      rows.push([r.net, kernelLabel(r.kernel ?? r.kernelOption, r.dtype), `${r.workers} ${fanOutLabel(r)}`.trim(), fmtRate(r.samplesPerSecond),
        r.workers > 1 && one ? fmtRatio(r.samplesPerSecond / one.samplesPerSecond) : '',
        `${r.rounds > 1 ? `${r.rounds} runs × ` : ''}2..${r.epochs}`,
        r.bytesPerStep === null ? '—' : (r.bytesPerStep / 1024).toFixed(0), r.testAccuracy === null ? '—' : r.testAccuracy.toFixed(3), r.paramHash ?? '—', fmtContention(r.contention)]);
    }
    say(table(rows));
    say('  samples/s = the epoch events\' samplesPerSecond (training wall time, evaluation excluded), median over epochs 2..E of');
    say('  every run (epoch 1 of each run is its JIT warm-up). Same paramHash for W=1 and W=2 = bit-identical parameters.');
    say('  wire KiB/step = WebSocket bytes per step, both directions, as the epoch event reports it.');
    say('  fan-out all: every step split over both workers; auto (the default): the coordinator measured both fan-outs and');
    say('  kept the faster ("→ 1": one worker per step, the other idle). Any fan-out gives the same bits.');
    say('  --chunks 2: the mini-batch cut in two halves, as PyTorch DDP on 2 processes cuts it (other bits than the default');
    say('  chunking, the same for any worker count); run where the default cuts it into more.');
  }

  // ── 3. Peers ─────────────────────────────────────────────────────────────────────────────────────────────────
  const peers: PeerResult[] = [];
  let plan: PeerPlan | null = null;
  if (options.sections.has('peers')) {
    say();
    say('── 3. Peers in Python (bench/python/), same data, one thread per process unless the row says otherwise ──');
    plan = planPeers(probePythons());
    for (const note of plan.notes) say(`  ${note}`);
    if (plan.numpy) say(`  current numpy: ${plan.numpy.executable} (Python ${plan.numpy.version}, numpy ${plan.numpy.numpy}); run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (that command only)`);
    if (plan.debianNumpy) say(`  Debian numpy: ${plan.debianNumpy.executable} (numpy ${plan.debianNumpy.numpy}); environment kept, as for Node`);
    else say('  Debian numpy (the same OpenBLAS as nblas) not found as a separate interpreter: that row is skipped');
    if (plan.torch) say(`  PyTorch: ${plan.torch.executable} (torch ${plan.torch.torch}); environment kept (it loads Debian's OpenBLAS, like nblas)`);
    const seconds = quick ? 1.5 : 4;
    const warmup = quick ? 0.5 : 1;
    const dataDir = exportTrainingData();
    try {
      for (const net of NETS) {
        for (const spec of peerSpecs(plan, net, !quick)) {
          const r = await measureQuietly(() => runPeer(spec, dataDir, seconds, warmup, 120_000), gate, quietBudget);
          peers.push(r);
          const core = r.blas?.map((b) => `${b.core} ${b.config?.split(/\s+/)[1] ?? ''}, ${b.threads ?? '?'} thread(s), via ${b.source ?? '?'}`)
            .filter((x, i, all) => all.indexOf(x) === i).join('; ') ?? '';
          say(`  ${net.label} ${r.label}: ${r.error ? `FAILED ${r.error}` : `${fmtRate(r.samplesPerSecond)} samples/s (${r.steps} steps in ${r.seconds?.toFixed(1)} s; OpenBLAS ${core || '?'}; other CPU ${fmtContention(r.contention)}${r.retried ? ', re-measured' : ''})`}`);
        }
      }
    } finally {
      removeData(dataDir);
    }
    say(`  measured ${seconds} s per run after ${warmup} s of warm-up; samples/s counts global samples (DDP: each rank m/2).`);
    say('  OpenBLAS core/version/threads read inside each child: threadpoolctl when installed, else openblas_get_corename/_config via ctypes.');
  }

  // ── 4. Per-net summary ───────────────────────────────────────────────────────────────────────────────────────
  say();
  say('── 4. Summary per net (all measured in this run) ──');
  const summary = NETS.map((net) => summarise(net, kernel, e2e, peers));
  for (const s of summary) {
    say();
    say(`${s.net}`);
    for (const [key, base] of [['A', s.baselineA], ['B', s.baselineB], ['C', s.baselineC], ['D', s.baselineD]] as const) {
      say(`  ${key} = ${base.label}: ${base.value === null ? 'not measured' : `${fmtRate(base.value)} samples/s`}`);
    }
    say(table([['configuration', 'procs×thr', 'samples/s', '÷ A', '÷ B', '÷ C', '÷ D', 'other CPU'],
      ...s.rows.map((r) => [r.label, r.procs, fmtRate(r.samplesPerSecond), fmtRatio(r.vsA), fmtRatio(r.vsB), fmtRatio(r.vsC), fmtRatio(r.vsD),
        fmtContention(r.contention)])]));
    for (const line of s.notes) say(`  ${line}`);
  }
  say();
  say('  Kernel rows compute gradient sums only (no update, no data shuffling); every other row trains (update included).');
  say(`  other CPU = cores used by processes outside this bench (plus hypervisor steal) while the row was measured, from`);
  say(`  /proc/stat minus this bench's own process tree; "!" marks ≥ ${SUSPECT_CORES}: that row lost CPU to someone else, so its ratios`);
  say(`  are suspect. Before each measurement the bench waits for a quiet machine, and re-measures a disturbed row once,`);
  say(`  keeping the quieter result, within a capped budget (${(waitedMs / 1000).toFixed(1)} s waited in this run).`);
  const suspects = summary.flatMap((x) => x.rows.filter((r) => isSuspect(r.contention)).map((r) => `${x.net} ${r.label}`));
  if (suspects.length > 0) say(`  ${suspects.length} row(s) marked "!" were measured on a busy machine: re-run the bench when it is quiet before quoting them.`);

  const seconds = (Date.now() - started) / 1000;
  const results = {
    when: new Date(started).toISOString(), quick, seconds, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model,
    loadAverageStart: load0, loadAverageEnd: loadavg(),
    env: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? null },
    nodeBlasLibraries: blasLibrariesInThisProcess(),
    flops: { formula: 'nominal 6·weightCount per sample; exact 6·W − 2·W1', perNet: NETS.map((n) => ({ net: n.label, nominal: nominalFlopsPerSample(n.layout), exact: exactFlopsPerSample(n.layout) })) },
    quietWaitSeconds: waitedMs / 1000, suspectThresholdCores: SUSPECT_CORES,
    kernel, e2e, peers: { plan, results: peers }, summary,
  };
  mkdirSync(dirname(resultsPath), { recursive: true });
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  say();
  say(`wrote ${resultsPath}; total ${seconds.toFixed(0)} s; load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

type WorkerSlot = { workers: number; fanOut: FanOutMode; shm: boolean; chunks: number | null; tsLoops: boolean };

/**
 * The cluster configurations a group runs: one worker, two with each fan-out, two with every array on the sockets
 * (--no-shm: what workers on other machines get; the shared-memory lane's gain is the ratio to `all`), and, where
 * the default cuts the mini-batch into more than two chunks, two with --chunks 2: the batch cut in halves, as
 * PyTorch DDP on two processes cuts it. With OpenBLAS and the C elementwise loops loaded, one worker again with the
 * TypeScript loops (NABLA_NATIVE=off): what the addon is worth end to end.
 */
function workerSlots({ net, kernel }: E2eGroup): WorkerSlot[] {
  const slot = (workers: number, fanOut: FanOutMode, shm = true, chunks: number | null = null, tsLoops = false): WorkerSlot =>
    ({ workers, fanOut, shm, chunks, tsLoops });
  const slots = [slot(1, 'auto'), slot(2, 'all'), slot(2, 'auto'), slot(2, 'all', false)];
  if (defaultMaxChunks(net.batch) > 2) slots.push(slot(2, 'auto', true, 2));
  if (kernel === 'auto' && nativeElementwise !== null) slots.push(slot(1, 'auto', true, null, true));
  return slots;
}

/**
 * "" for one worker; "fan-out all", "fan-out auto → 1" (the fan-out auto chose) for more; then ", --chunks 2" and
 * ", TypeScript loops" when so run.
 */
function fanOutLabel(r: E2eResult): string {
  const options = `${r.chunks === null ? '' : `, --chunks ${r.chunks}`}${r.tsLoops ? ', TypeScript loops' : ''}`;
  if (r.workers === 1) return options.slice(2);
  return `fan-out ${r.fanOut}${r.fanOut === 'auto' && r.fanOutChosen !== null ? ` → ${r.fanOutChosen}` : ''}${r.shm ? '' : ', sockets only'}${options}`;
}

interface E2eGroup {
  net: NetCase;
  kernel: 'auto' | 'js';
  dtype: Dtype;
  epochs: number;
  rounds: number;
}

function e2eGroups(quick: boolean): (E2eGroup | { skip: string })[] {
  const [small, big] = NETS;
  // With OpenBLAS an epoch of the bundled 8,000 digits takes 0.3–0.6 s and the rate still rises over the first few
  // (JIT tiers, the fan-out trials of the first 70 steps): 8 epochs measure 2–4 s past the first, as the peers
  // measure 3–5 s after a 1 s warm-up.
  const epochs = quick ? 3 : 8;
  const rounds = quick ? 1 : 2;
  return [
    ...DTYPES.flatMap((dtype) => [small, big].map((net): E2eGroup => ({ net, kernel: 'auto', dtype, epochs, rounds }))),
    { net: small, kernel: 'js', dtype: 'float64', epochs: quick ? 2 : 3, rounds },
    quick
      ? { skip: `${big.label} --kernel js: skipped with --quick (about 6 s per epoch)` }
      : { net: big, kernel: 'js', dtype: 'float64', epochs: 3, rounds: 1 },
  ];
}

interface SummaryRow {
  label: string;
  procs: string;
  samplesPerSecond: number | null;
  vsA: number | null;
  vsB: number | null;
  vsC: number | null;
  vsD: number | null;
  contention: Contention | null;
}
interface NetSummary {
  net: string;
  baselineA: { label: string; value: number | null };
  baselineB: { label: string; value: number | null };
  baselineC: { label: string; value: number | null };
  baselineD: { label: string; value: number | null };
  rows: SummaryRow[];
  notes: string[];
}

function summarise(net: NetCase, kernel: KernelSection | null, e2e: E2eResult[], peers: PeerResult[]): NetSummary {
  const peer = (id: string): PeerResult | undefined => peers.find((p) => p.net === net.label && p.id === id);
  const a = peer('numpy-batched-f64')?.samplesPerSecond ?? null;
  const b = peer('torch-ddp-f32')?.samplesPerSecond ?? null;
  const c = peer('numpy-debian-f64')?.samplesPerSecond ?? null;
  const d = peer(NUMPY_2_THREADS_ID)?.samplesPerSecond ?? null;
  const rows: SummaryRow[] = [];
  const add = (label: string, procs: string, sps: number | null | undefined, contention: Contention | null): void => {
    const v = sps ?? null;
    rows.push({
      label, procs, samplesPerSecond: v, contention,
      vsA: v !== null && a ? v / a : null, vsB: v !== null && b ? v / b : null, vsC: v !== null && c ? v / c : null,
      vsD: v !== null && d ? v / d : null,
    });
  };
  const notes: string[] = [];
  for (const r of kernel?.results.filter((x) => x.net === net.label) ?? []) {
    const name = kernelLabel(r.kernel, r.dtype);
    add(`Nabla kernel ${name}, plain batched`, '1×1', r.plainSamplesPerSecond, r.contention);
    add(`Nabla kernel ${name}, deterministic (${r.chunks} chunks + tree)`, '1×1', r.deterministicSamplesPerSecond, r.contention);
    notes.push(`determinism cost (${name}): ${r.determinismCost.toFixed(2)}× the time per sample of the plain pass; kernel (6W) ` +
      `${r.gflopsNominalPlain.toFixed(2)} GFLOPS plain = ${(r.fractionOfDgemmPlain * 100).toFixed(0)}%, ${r.gflopsNominal.toFixed(2)} deterministic = ` +
      `${(r.fractionOfDgemm * 100).toFixed(0)}% of this kernel's 1024³ ${gemmRoutine(r.dtype)}`);
  }
  for (const r of e2e.filter((x) => x.net === net.label)) {
    add(`nabla train, ${kernelLabel(r.kernel ?? r.kernelOption, r.dtype)}, ${r.workers} worker${r.workers > 1 ? 's' : ''}${fanOutLabel(r) ? `, ${fanOutLabel(r)}` : ''}${r.error ? ' (FAILED)' : ''}`, `${r.workers}×1 +coord`, r.error ? null : r.samplesPerSecond, r.contention);
  }
  for (const p of peers.filter((x) => x.net === net.label)) {
    add(`${p.label}${p.error ? ' (FAILED)' : ''}`, `${p.procs}×${p.threads}`, p.samplesPerSecond, p.contention);
  }
  const bestE2e = e2e.filter((x) => x.net === net.label && !x.error).sort((x, y) => y.samplesPerSecond - x.samplesPerSecond)[0];
  if (bestE2e && b) notes.push(`best nabla train (${kernelLabel(bestE2e.kernel ?? bestE2e.kernelOption, bestE2e.dtype)}, ${bestE2e.workers} worker${bestE2e.workers > 1 ? 's' : ''}${fanOutLabel(bestE2e) ? `, ${fanOutLabel(bestE2e)}` : ''}) ÷ PyTorch DDP f32: ${fmtRatio(bestE2e.samplesPerSecond / b)}`);
  const ddp64 = peer('torch-ddp-f64')?.samplesPerSecond;
  if (bestE2e && ddp64) notes.push(`best nabla train ÷ PyTorch DDP f64 (same precision as Nabla): ${fmtRatio(bestE2e.samplesPerSecond / ddp64)}`);
  // Issue #8: the same two cores, used as two single-threaded Nabla workers or as one numpy process with 2 BLAS threads.
  const twoWorkers = (dtype: Dtype) => e2e.filter((x) => x.net === net.label && x.workers === 2 && x.kernel === 'openblas' && x.dtype === dtype && !x.error);
  // Issue #8: two float32 workers against PyTorch DDP on two float32 processes (target ≥ 1.5×).
  for (const two32 of twoWorkers('float32')) {
    if (b) notes.push(`Nabla 2 workers (${fanOutLabel(two32)}) --dtype float32 (openblas) ÷ PyTorch DDP gloo 2×1 f32: ${fmtRatio(two32.samplesPerSecond / b)}`);
  }
  for (const two of twoWorkers('float64')) {
    if (d) notes.push(`Nabla 2 workers (${fanOutLabel(two)}) ${net.label} f64 (openblas) ÷ numpy 2 threads (batched f64, 1 process × 2 BLAS threads): ${fmtRatio(two.samplesPerSecond / d)}`);
  }
  for (const dtype of DTYPES) {
    const all = twoWorkers(dtype).filter((x) => x.fanOut === 'all');
    const [viaShm, viaSockets] = [all.find((x) => x.shm), all.find((x) => !x.shm)];
    if (viaShm && viaSockets) notes.push(`shared memory (${dtype}, 2 workers, fan-out all): ${fmtRatio(viaShm.samplesPerSecond / viaSockets.samplesPerSecond)} the samples/s of sockets only`);
  }
  for (const dtype of DTYPES) {
    const oneWorker = e2e.filter((x) => x.net === net.label && x.workers === 1 && x.kernel === 'openblas' && x.dtype === dtype && x.chunks === null && !x.error);
    const [k1, withTs] = [oneWorker.find((x) => !x.tsLoops), oneWorker.find((x) => x.tsLoops)];
    const kd = kernel?.results.find((x) => x.net === net.label && x.kernel === 'openblas' && x.dtype === dtype);
    if (k1 && kd) notes.push(`nabla train, 1 worker (openblas ${dtype}) reaches ${(100 * k1.samplesPerSecond / kd.deterministicSamplesPerSecond).toFixed(0)}% of the deterministic kernel alone: the rest is coordinator, protocol and update`);
    if (k1 && withTs) notes.push(`C elementwise loops, end to end (1 worker, openblas ${dtype}): ${fmtRatio(k1.samplesPerSecond / withTs.samplesPerSecond)} the samples/s with the TypeScript loops`);
  }
  return {
    net: net.label,
    baselineA: { label: 'numpy batched float64, 1 thread (current numpy)', value: a },
    baselineB: { label: 'PyTorch DDP gloo 2×1 float32', value: b },
    baselineC: { label: "numpy float64 on Debian's OpenBLAS 0.3.21, the library nblas calls (same precision, same BLAS)", value: c },
    baselineD: { label: 'numpy batched float64, 1 process × 2 BLAS threads (current numpy; the 2 cores Nabla\'s 2 workers use)', value: d },
    rows, notes,
  };
}

/** "openblas", or "openblas f32" for a float32 row. */
const kernelLabel = (kernel: string, dtype: Dtype): string => (dtype === 'float32' ? `${kernel} f32` : kernel);

/** The BLAS shared objects mapped into this process (after nblas loaded): which library Node's kernel really calls. */
function blasLibrariesInThisProcess(): string[] {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
    const libs = maps.map((l) => l.split(/\s+/).pop() ?? '').filter((p) => /blas/i.test(p) && p.startsWith('/'));
    return [...new Set(libs)];
  } catch {
    return [];
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/** A probed plan in a table cell: "4/pass+pairs+bands" (see the kernel table's footnote). */
function fmtPlan(plan: ComputePlan): string {
  return `${2 ** plan.groupLevel}/pass${plan.accumulatePairs ? '+pairs' : ''}${plan.bandValues > 0 ? '+bands' : ''}`;
}
