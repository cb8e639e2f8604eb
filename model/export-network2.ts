/**
 * The book's network2.py file format, as its Network.save() writes it and its load() reads it:
 * {"sizes":[…], "weights":[…], "biases":[…], "cost":"CrossEntropyCost"|"QuadraticCost"}, the lists exactly as numpy's
 * tolist() gives them: weights[l] is sizes[l+1] rows of sizes[l] numbers, and biases[l] is a column vector, a list
 * of sizes[l+1] one-element lists. load() does np.array(b), and only a (n, 1) column broadcasts right in
 * feedforward's np.dot(w, a) + b.
 */
import { bookCostClass, type CostName } from '../shared/network/cost.js';
import type { ParamLayout, Params } from '../shared/network/layout.js';
import { modelToJson } from '../shared/network/model-file.js';

export interface Network2Json {
  sizes: number[];
  weights: number[][][];
  biases: number[][][];
  cost: string;
}

/** The file name `nabla export --format json` writes in its --out directory. */
export const NETWORK2_FILE = 'network.json';

/** Our flat parameters in network2's layout; numbers are unchanged float64s (JSON prints them round-trip exact). */
export function network2Json(layout: ParamLayout, params: Params, cost: CostName): Network2Json {
  const { sizes, weights, biases } = modelToJson(layout, params);
  return { sizes, weights, biases: biases.map((layer) => layer.map((b) => [b])), cost: bookCostClass(cost) };
}
