import { describe, expect, it, vi } from 'vitest';
import { jsGemm } from './js-gemm.js';
import { KERNEL_CHOICES, selectGemm, type KernelChoice } from './select.js';
import { thrownBy } from '../../test/support/thrown.js';

// Pretend nblas is missing, whether or not it is installed here.
vi.mock('./blas-gemm.js', () => ({
  loadBlasGemm: () => null,
  blasLoadFailure: () => new Error("Cannot find module 'nblas'"),
}));

describe('selectGemm without OpenBLAS', () => {
  it('falls back to the TypeScript kernel for auto', () => {
    expect(selectGemm('auto')).toBe(jsGemm);
  });

  it('returns the TypeScript kernel for js', () => {
    expect(selectGemm('js')).toBe(jsGemm);
  });

  it('explains how to get OpenBLAS when blas is asked for', () => {
    const thrown = thrownBy(() => selectGemm('blas'));
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe(
      "the OpenBLAS kernel is not available: install Debian's libopenblas-dev and run `npm rebuild nblas`, or use --kernel js",
    );
    expect(((thrown as Error).cause as Error).message).toMatch(/Cannot find module 'nblas'/);
  });

  it('rejects an unknown choice that bypassed the type checker', () => {
    expect(() => selectGemm('gpu' as KernelChoice)).toThrow(/unknown kernel choice gpu; expected one of auto, blas, js/);
    expect(KERNEL_CHOICES).toEqual(['auto', 'blas', 'js']);
  });
});
