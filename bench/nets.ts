/** The two networks every section measures, and the flop count the bench uses for them. */
import { createLayout, type ParamLayout } from '../shared/network/layout.js';

export interface NetCase {
  /** e.g. "[784,30,10] m=10" */
  readonly label: string;
  readonly sizes: readonly number[];
  readonly batch: number;
  readonly layout: ParamLayout;
}

function netCase(sizes: number[], batch: number): NetCase {
  return { label: `[${sizes.join(',')}] m=${batch}`, sizes, batch, layout: createLayout(sizes) };
}

export const NETS: readonly NetCase[] = [netCase([784, 30, 10], 10), netCase([784, 256, 256, 10], 128)];

/**
 * Nominal flops per sample: 6 · weightCount (forward w·a: 1 multiply-add per weight = 2 flops; backward δᵀ·a for
 * ∇w and δ·w for the previous δ: 2 multiply-adds per weight = 4 flops). Biases and σ are not counted.
 */
export const nominalFlopsPerSample = (layout: ParamLayout): number => 6 * layout.weightCount;

/**
 * The multiply-adds the kernel really performs, ×2: the backward δ·w product is skipped for the first layer (no δ⁰
 * is needed), so 6·W − 2·W₁, where W₁ is the first layer's weight count.
 */
export function exactFlopsPerSample(layout: ParamLayout): number {
  const first = layout.layers[0];
  return 6 * layout.weightCount - 2 * first.nIn * first.nOut;
}
