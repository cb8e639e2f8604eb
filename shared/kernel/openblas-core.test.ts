import { describe, expect, it } from 'vitest';
import { chooseCoreType, coreTypeFor, cpuFlags, describeCore } from './openblas-core.js';

/** /proc/cpuinfo as this Emerald Rapids VM writes it (trimmed), where Debian's OpenBLAS 0.3.21 falls back to Prescott. */
const XEON_AVX512 = `processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 207
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse sse2 ssse3 fma sse4_2 avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl amx_tile
bogomips\t: 4200.00

processor\t: 1
flags\t\t: fpu sse sse2
`;
/** An AMD EPYC (Zen 3): AVX2 and FMA, no AVX-512. */
const ZEN3 = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx fma avx2 bmi2\n';
/** An ARM machine: "Features", no x86 flags line. */
const ARM = 'processor\t: 0\nFeatures\t: fp asimd evtstrm aes\n';

describe('the OpenBLAS core type', () => {
  it('reads the first processor\'s flags, and none where the CPU reports no x86 flags', () => {
    expect(cpuFlags(XEON_AVX512).has('avx512vl')).toBe(true);
    expect(cpuFlags(XEON_AVX512).has('model')).toBe(false);
    expect(cpuFlags(ZEN3)).toEqual(new Set(['fpu', 'sse2', 'avx', 'fma', 'avx2', 'bmi2']));
    expect(cpuFlags(ARM).size).toBe(0);
  });

  it('is SkylakeX with the five AVX-512 subsets, Haswell with AVX2 and FMA, else left to OpenBLAS', () => {
    expect(coreTypeFor(cpuFlags(XEON_AVX512))).toBe('SkylakeX');
    expect(coreTypeFor(cpuFlags(ZEN3))).toBe('Haswell');
    // AVX-512 F alone (Knights Landing) is not what SkylakeX kernels need.
    expect(coreTypeFor(new Set(['avx2', 'fma', 'avx512f']))).toBe('Haswell');
    expect(coreTypeFor(new Set(['avx', 'avx2']))).toBeNull();
    expect(coreTypeFor(cpuFlags(ARM))).toBeNull();
  });

  it('sets OPENBLAS_CORETYPE from the flags when it is unset or blank, and says so', () => {
    for (const env of [{}, { OPENBLAS_CORETYPE: '' }, { OPENBLAS_CORETYPE: '  ' }] as NodeJS.ProcessEnv[]) {
      expect(chooseCoreType(env, () => XEON_AVX512)).toEqual({ core: 'SkylakeX', source: 'cpu flags' });
      expect(env.OPENBLAS_CORETYPE).toBe('SkylakeX');
    }
    const zen: NodeJS.ProcessEnv = {};
    expect(chooseCoreType(zen, () => ZEN3)).toEqual({ core: 'Haswell', source: 'cpu flags' });
    expect(describeCore({ core: 'Haswell', source: 'cpu flags' })).toBe("Haswell, from the CPU's flags");
  });

  it('keeps what the user set, whatever the CPU', () => {
    const env: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Sandybridge' };
    expect(chooseCoreType(env, () => XEON_AVX512)).toEqual({ core: 'Sandybridge', source: 'OPENBLAS_CORETYPE' });
    expect(env.OPENBLAS_CORETYPE).toBe('Sandybridge');
    expect(describeCore({ core: 'Sandybridge', source: 'OPENBLAS_CORETYPE' })).toBe('Sandybridge, from OPENBLAS_CORETYPE');
  });

  it('leaves the variable unset where the flags call for nothing or cannot be read (OpenBLAS detects)', () => {
    const arm: NodeJS.ProcessEnv = {};
    expect(chooseCoreType(arm, () => ARM)).toBeNull();
    expect(arm).toEqual({});
    const noProc: NodeJS.ProcessEnv = {};
    expect(chooseCoreType(noProc, () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); })).toBeNull();
    expect(noProc).toEqual({});
  });
});
