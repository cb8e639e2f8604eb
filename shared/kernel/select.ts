import { blasLoadFailure, loadBlasGemm, type BlasGemm } from './blas-gemm.js';
import { elementwise } from './elementwise.js';
import type { Gemm } from './gemm.js';
import { jsGemm } from './js-gemm.js';
import { describeCore } from './openblas-core.js';
import { UsageError } from '../usage-error.js';

/** Which dgemm kernel to use: 'auto' takes OpenBLAS when it loads and plain TypeScript otherwise. */
export type KernelChoice = 'auto' | 'blas' | 'js';

/** Every KernelChoice, in the order a --kernel option lists them. */
export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'blas', 'js'];

/** The kernel for a choice; print its `name` so users see which one computes. 'blas' unavailable is a UsageError. */
export function selectGemm(choice: KernelChoice): Gemm {
  switch (choice) {
    case 'js':
      return jsGemm;
    case 'auto':
      return loadBlasGemm() ?? jsGemm;
    case 'blas': {
      const blas = loadBlasGemm();
      if (blas === null) {
        throw new UsageError(
          'the OpenBLAS kernel is not available: install Debian\'s libopenblas-dev and run `npm rebuild nblas`, or use --kernel js',
          { cause: blasLoadFailure() },
        );
      }
      return blas;
    }
    default:
      return assertNever(choice);
  }
}

/** What computes, as start-up lines print it: the kernel (describeKernel) and the elementwise loops, "… + C loops (AVX2)". */
export function describeCompute(gemm: Gemm): string {
  return `${describeKernel(gemm)} + ${elementwise.description}`;
}

/** The kernel as people read it: its name, and for OpenBLAS the core type it runs, e.g. "openblas (SkylakeX, from the CPU's flags)". */
export function describeKernel(gemm: Gemm): string {
  const { core } = gemm as Partial<BlasGemm>;
  return core ? `${gemm.name} (${describeCore(core)})` : gemm.name;
}

function assertNever(value: never): never {
  throw new RangeError(`unknown kernel choice ${String(value)}; expected one of ${KERNEL_CHOICES.join(', ')}`);
}
