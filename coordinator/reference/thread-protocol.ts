import type { CostName } from '../../shared/network/cost.js';
import type { TfBackendPreference } from './backend.js';
import type { GradientComparison } from './compare.js';

/** workerData of the reference thread. */
export interface ReferenceThreadConfig {
  tolerance: number;
  backend: TfBackendPreference;
}

/** One mini-batch to check. Every array is the thread's own copy, transferred (not shared) with the message. */
export interface CheckRequest {
  type: 'check';
  id: number;
  step: number;
  sizes: number[];
  cost: CostName;
  weights: Float64Array;
  biases: Float64Array;
  x: Float64Array;
  y: Float64Array;
  rows: number;
  clusterWeights: Float64Array;
  clusterBiases: Float64Array;
}

export type ToReferenceThread = CheckRequest;

export type FromReferenceThread =
  | { type: 'ready'; backend: string; skipped: string[] }
  | { type: 'start-failed'; message: string }
  | { type: 'result'; id: number; step: number; comparison: GradientComparison; referenceMs: number }
  | { type: 'check-failed'; id: number; step: number; message: string };
