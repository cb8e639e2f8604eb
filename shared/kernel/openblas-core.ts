import { readFileSync } from 'node:fs';

/**
 * Which inner kernels OpenBLAS should run. Built with DYNAMIC_ARCH (as Debian's is), it picks them by the CPU's
 * model number, and a release older than the CPU does not know the model: Debian 12's 0.3.21 on an Emerald Rapids
 * Xeon (family 6, model 207, AVX-512) falls back to "Prescott", its SSE3 kernels — measured here, a 1024³ dgemm at
 * 12.5 GFLOPS instead of 68 with "SkylakeX". OPENBLAS_CORETYPE names the kernels instead, read once when the library
 * loads. When the user has not set it, we set it from the CPU's feature flags, which every x86 CPU reports the same
 * way: SkylakeX where AVX-512 (F, CD, BW, DQ, VL) is there, Haswell where AVX2 and FMA are (Zen included: its own
 * kernels round exactly as Haswell's), nothing otherwise (OpenBLAS decides). A side effect is welcome: machines of one
 * instruction set then round alike, whatever model numbers they report.
 */
export type CoreChoice = { core: string; source: 'OPENBLAS_CORETYPE' | 'cpu flags' };

const AVX512 = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'];
const AVX2 = ['avx2', 'fma'];

/** The core type for a CPU with these feature flags (as /proc/cpuinfo spells them), or null to leave it to OpenBLAS. */
export function coreTypeFor(flags: ReadonlySet<string>): string | null {
  if (AVX512.every((flag) => flags.has(flag))) return 'SkylakeX';
  if (AVX2.every((flag) => flags.has(flag))) return 'Haswell';
  return null;
}

/** The first processor's feature flags from /proc/cpuinfo text (x86 "flags" lines); empty where there are none. */
export function cpuFlags(cpuinfo: string): Set<string> {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  return new Set(line ? line[1].trim().split(/\s+/) : []);
}

/**
 * Sets OPENBLAS_CORETYPE before OpenBLAS loads, unless the environment has it, and says which core type is in force
 * and why (null: none, OpenBLAS detects). Only the main thread's process.env reaches native code (see blas-gemm.ts).
 */
export function chooseCoreType(env: NodeJS.ProcessEnv = process.env, readCpuinfo = (): string => readFileSync('/proc/cpuinfo', 'utf8')): CoreChoice | null {
  const given = env.OPENBLAS_CORETYPE?.trim();
  if (given) return { core: given, source: 'OPENBLAS_CORETYPE' };
  let core: string | null;
  try {
    core = coreTypeFor(cpuFlags(readCpuinfo()));
  } catch {
    return null; // no /proc (not Linux): OpenBLAS's own detection
  }
  if (core === null) return null;
  env.OPENBLAS_CORETYPE = core;
  return { core, source: 'cpu flags' };
}

/** How the start line and a worker's log name the core type: "SkylakeX, from the CPU's flags". */
export const describeCore = ({ core, source }: CoreChoice): string =>
  `${core}, ${source === 'cpu flags' ? "from the CPU's flags" : 'from OPENBLAS_CORETYPE'}`;
