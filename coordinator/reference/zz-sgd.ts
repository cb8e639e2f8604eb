import type { RandomProblem } from './random-problem.js';
import { clusterGradient, randomProblem } from './random-problem.js';
/** Trains p.params on fresh random batches for `steps` SGD steps (eta 3), to get past the initial saturation. */
export function sgdLike(p: RandomProblem, steps: number): void {
  for (let s = 0; s < steps; s++) {
    const batch = randomProblem(1000 + s, p.layout.sizes, p.rows);
    const g = clusterGradient({ ...batch, params: p.params });
    for (let i = 0; i < g.weights.length; i++) p.params.weights[i] -= (3 / p.rows) * g.weights[i];
    for (let i = 0; i < g.biases.length; i++) p.params.biases[i] -= (3 / p.rows) * g.biases[i];
  }
}
