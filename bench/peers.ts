/**
 * Section 3: peers in Python (bench/python/*.py), each run as a child process for a fixed time after a warm-up,
 * each printing one JSON line. All of them train on the same bundled MNIST rows, exported here to a temp directory.
 *
 * Threads: every child gets OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = its spec's `threads` (1 unless
 * a row says otherwise: numpy batched also runs with 2 BLAS threads on the big net, the same 2 cores Nabla's 2 workers use).
 * OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: unset (both, in that child only) for the current numpy, so its bundled
 * OpenBLAS picks its own kernel; left as set for Debian's numpy and PyTorch, which load Debian's OpenBLAS 0.3.21, the
 * same library nblas uses for Node (run.ts sets the core type as nabla does: 0.3.21 falls back to SSE3 kernels on CPUs
 * newer than itself).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundledMnist } from '../shared/data/mnist.js';
import { contentionBetween, snapshot, type Contention } from './contention.js';
import type { NetCase } from './nets.js';

const pythonDir = fileURLToPath(new URL('../../bench/python/', import.meta.url));

export interface PythonInfo {
  exe: string;
  executable: string;
  version: string;
  numpy: string | null;
  numpyPath: string | null;
  torch: string | null;
}

export type EnvMode = 'unset-openblas-overrides' | 'keep';

export interface PeerSpec {
  id: string;
  label: string;
  script: string;
  python: PythonInfo;
  envMode: EnvMode;
  net: NetCase;
  dtype: 'float64' | 'float32';
  /** Processes (DDP) × threads each. */
  procs: number;
  /** BLAS threads per process, set in the child's environment before numpy or torch loads (default 1). */
  threads?: number;
  extraArgs?: string[];
}

export interface PeerResult {
  id: string;
  label: string;
  net: string;
  dtype: string;
  procs: number;
  threads: number;
  python: string;
  envMode: EnvMode;
  samplesPerSecond: number | null;
  steps?: number;
  seconds?: number;
  blas?: { source?: string; lib?: string; core?: string; config?: string; threads?: number }[];
  raw?: unknown;
  /** Other processes' CPU use during the child's whole run (start-up included). */
  contention: Contention | null;
  error?: string;
}

const PROBE = `
import json, sys
out = {'executable': sys.executable, 'version': sys.version.split()[0], 'numpy': None, 'numpyPath': None, 'torch': None}
try:
    import numpy
    out['numpy'] = numpy.__version__; out['numpyPath'] = numpy.__file__
except Exception:
    pass
try:
    import torch
    out['torch'] = torch.__version__
except Exception:
    pass
print(json.dumps(out))
`;

/** The Python interpreters worth using: `python3` on PATH and Debian's /usr/bin/python3, when they differ. */
export function probePythons(): PythonInfo[] {
  const found: PythonInfo[] = [];
  for (const exe of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(exe, ['-c', PROBE], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.status !== 0 || !r.stdout) continue;
    try {
      const info = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Omit<PythonInfo, 'exe'>;
      if (!found.some((p) => p.executable === info.executable)) found.push({ exe, ...info });
    } catch {
      // not a usable interpreter
    }
  }
  return found;
}

const versionKey = (v: string | null): number => {
  if (!v) return -1;
  const [a, b, c] = v.split('.').map((x) => parseInt(x, 10) || 0);
  return a * 1e6 + b * 1e3 + c;
};

export interface PeerPlan {
  /** The newest numpy: the "current numpy" the baseline uses. */
  numpy: PythonInfo | null;
  /** Debian's numpy (linked to the system OpenBLAS that nblas also uses), when it is another interpreter. */
  debianNumpy: PythonInfo | null;
  torch: PythonInfo | null;
  notes: string[];
}

export function planPeers(pythons: PythonInfo[]): PeerPlan {
  const withNumpy = pythons.filter((p) => p.numpy).sort((a, b) => versionKey(b.numpy) - versionKey(a.numpy));
  const numpy = withNumpy[0] ?? null;
  const debianNumpy = withNumpy.find((p) => p !== numpy && (p.numpyPath ?? '').startsWith('/usr/lib/python3/')) ?? null;
  const torch = pythons.find((p) => p.torch) ?? null;
  const notes: string[] = [];
  if (!numpy) notes.push('numpy peers skipped: no python3 with numpy found');
  if (!torch) notes.push("PyTorch peers skipped: `import torch` fails in every python3 found (apt-get install python3-torch)");
  return { numpy, debianNumpy, torch, notes };
}

/** Writes the bundled MNIST training rows as raw little-endian uint16 thousandths + labels; returns the directory. */
export function exportTrainingData(): string {
  const { train } = loadBundledMnist();
  const dir = mkdtempSync(join(tmpdir(), 'nabla-bench-'));
  if (!(train.x instanceof Uint16Array) || !train.labels) throw new Error('bundled MNIST is expected as Uint16 thousandths with labels');
  writeFileSync(join(dir, 'x.u16'), Buffer.from(train.x.buffer, train.x.byteOffset, train.x.byteLength));
  writeFileSync(join(dir, 'labels.u16'), Buffer.from(train.labels.buffer, train.labels.byteOffset, train.labels.byteLength));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ count: train.count, inputSize: train.inputSize, xDivisor: train.xDivisor }));
  return dir;
}

export const removeData = (dir: string): void => rmSync(dir, { recursive: true, force: true });

function childEnv(mode: EnvMode, threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, PYTHONUNBUFFERED: '1' };
  if (mode === 'unset-openblas-overrides') {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  return env;
}

export async function runPeer(spec: PeerSpec, dataDir: string, seconds: number, warmup: number, timeoutMs: number): Promise<PeerResult> {
  const args = [
    join(pythonDir, spec.script), '--sizes', spec.net.sizes.join(','), '--batch', String(spec.net.batch),
    '--dtype', spec.dtype, '--seconds', String(seconds), '--warmup', String(warmup), '--data', dataDir, ...(spec.extraArgs ?? []),
  ];
  const threads = spec.threads ?? 1;
  const base: PeerResult = {
    id: spec.id, label: spec.label, net: spec.net.label, dtype: spec.dtype, procs: spec.procs, threads,
    python: `${spec.python.executable} ${spec.python.version}, numpy ${spec.python.numpy ?? '—'}${spec.python.torch && spec.script.startsWith('torch') ? `, torch ${spec.python.torch}` : ''}`,
    envMode: spec.envMode, samplesPerSecond: null, contention: null,
  };
  const before = snapshot();
  const child = spawn(spec.python.exe, args, { cwd: pythonDir, env: childEnv(spec.envMode, threads), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr = (stderr + t).slice(-4000); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  base.contention = contentionBetween(before, snapshot());
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (code !== 0 || !line) {
    return { ...base, error: `exit ${code}; ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const parsed = JSON.parse(line) as { samplesPerSecond: number; steps: number; seconds: number; blas?: PeerResult['blas'] };
  return { ...base, samplesPerSecond: parsed.samplesPerSecond, steps: parsed.steps, seconds: parsed.seconds, blas: parsed.blas, raw: parsed };
}

/** The id of the numpy batched float64 row with 2 BLAS threads (big net). */
export const NUMPY_2_THREADS_ID = 'numpy-batched-f64-2t';

/** Every peer run for one net, in the order they are printed. */
export function peerSpecs(plan: PeerPlan, net: NetCase, full: boolean): PeerSpec[] {
  const specs: PeerSpec[] = [];
  const small = net.batch === 10 && net.sizes.join() === '784,30,10';
  if (plan.numpy) {
    const np = plan.numpy;
    if (small) specs.push({ id: 'seed-numpy-f64', label: "seed's per-sample update_mini_batch, numpy f64", script: 'seed_numpy.py', python: np, envMode: 'unset-openblas-overrides', net, dtype: 'float64', procs: 1 });
    specs.push({ id: 'numpy-batched-f64', label: `numpy ${np.numpy} batched f64, 1 thread`, script: 'numpy_batched.py', python: np, envMode: 'unset-openblas-overrides', net, dtype: 'float64', procs: 1 });
    specs.push({ id: 'numpy-batched-f32', label: `numpy ${np.numpy} batched f32, 1 thread`, script: 'numpy_batched.py', python: np, envMode: 'unset-openblas-overrides', net, dtype: 'float32', procs: 1 });
    // Issue #8: one process using both cores through BLAS, against Nabla's 2 single-threaded workers (big net only:
    // on the small net's 30×784 products a second BLAS thread has nothing to do).
    if (!small) {
      specs.push({
        id: NUMPY_2_THREADS_ID, label: `numpy ${np.numpy} batched f64, 2 BLAS threads`, script: 'numpy_batched.py', python: np,
        envMode: 'unset-openblas-overrides', net, dtype: 'float64', procs: 1, threads: 2, extraArgs: ['--threads', '2'],
      });
    }
  }
  if (plan.debianNumpy) {
    specs.push({ id: 'numpy-debian-f64', label: `numpy ${plan.debianNumpy.numpy} (Debian, nblas's OpenBLAS) f64, 1 thread`, script: 'numpy_batched.py', python: plan.debianNumpy, envMode: 'keep', net, dtype: 'float64', procs: 1 });
  }
  if (plan.torch) {
    const t = plan.torch;
    specs.push({ id: 'torch-1-f32', label: 'PyTorch 1 proc × 1 thread f32', script: 'torch_single.py', python: t, envMode: 'keep', net, dtype: 'float32', procs: 1 });
    if (full) specs.push({ id: 'torch-1-f64', label: 'PyTorch 1 proc × 1 thread f64', script: 'torch_single.py', python: t, envMode: 'keep', net, dtype: 'float64', procs: 1 });
    specs.push({ id: 'torch-ddp-f32', label: 'PyTorch DDP gloo 2 proc × 1 thread f32', script: 'torch_ddp.py', python: t, envMode: 'keep', net, dtype: 'float32', procs: 2, extraArgs: ['--procs', '2'] });
    if (full) specs.push({ id: 'torch-ddp-f64', label: 'PyTorch DDP gloo 2 proc × 1 thread f64', script: 'torch_ddp.py', python: t, envMode: 'keep', net, dtype: 'float64', procs: 2, extraArgs: ['--procs', '2'] });
  }
  return specs;
}
