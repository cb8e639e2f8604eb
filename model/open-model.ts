/** What `nabla eval|predict|export` start from, the model file and the kernel, with their problems as usage errors. */
import type { Gemm } from '../shared/kernel/gemm.js';
import { type KernelChoice, selectGemm } from '../shared/kernel/select.js';
import { type Model, ModelFileError, readModelFile } from '../shared/network/model-file.js';
import { usage } from '../shared/usage-error.js';

/** Reads and validates `path`; a missing, unreadable or malformed file is a UsageError (exit 2) naming the problem. */
export function openModel(path: string): Model {
  try {
    return readModelFile(path);
  } catch (error) {
    if (error instanceof ModelFileError) usage(error.message);
    throw error;
  }
}

/** "[784,30,10]": how messages show a network's shape. */
export function shapeOf(sizes: readonly number[]): string {
  return `[${sizes.join(',')}]`;
}

/** The kernel asked for; an unavailable one (--kernel blas without OpenBLAS) is a usage error saying what to install. */
export function openKernel(choice: KernelChoice): Gemm {
  try {
    return selectGemm(choice);
  } catch (error) {
    return usage((error as Error).message);
  }
}
