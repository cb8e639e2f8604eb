/**
 * A literal transcription of the seed's per-sample backprop (nested arrays, one sample at a time), used only as an
 * oracle in tests. It shares no code with shared/network on purpose.
 */
export interface SeedNetwork {
  sizes: number[];
  /** biases[l][j] */
  biases: number[][];
  /** weights[l][j][k] */
  weights: number[][][];
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The seed's backprop(x, y): per-layer nabla_b and nabla_w for one sample. */
export function seedBackprop(net: SeedNetwork, x: number[], y: number[]): { nablaB: number[][]; nablaW: number[][][] } {
  const activations: number[][] = [x];
  const zs: number[][] = [];
  let activation = x;
  for (let l = 0; l < net.weights.length; l++) {
    const z = net.weights[l].map((row, j) => row.reduce((sum, w, k) => sum + w * activation[k], 0) + net.biases[l][j]);
    zs.push(z);
    activation = z.map(sigmoid);
    activations.push(activation);
  }
  const L = net.weights.length;
  const nablaB: number[][] = new Array(L);
  const nablaW: number[][][] = new Array(L);
  let delta = activations[L].map((a, j) => (a - y[j]) * sigmoid(zs[L - 1][j]) * (1 - sigmoid(zs[L - 1][j])));
  for (let l = L - 1; l >= 0; l--) {
    nablaB[l] = delta;
    const prev = activations[l];
    const d = delta;
    nablaW[l] = d.map((dj) => prev.map((ak) => dj * ak));
    if (l > 0) {
      const sp = zs[l - 1].map((z) => sigmoid(z) * (1 - sigmoid(z)));
      delta = sp.map((s, k) => net.weights[l].reduce((sum, row, j) => sum + row[k] * d[j], 0) * s);
    }
  }
  return { nablaB, nablaW };
}

/** The seed's update_mini_batch: sums the per-sample gradients and applies w ← w − (η/m)·Σ nabla_w. */
export function seedUpdateMiniBatch(net: SeedNetwork, batch: Array<{ x: number[]; y: number[] }>, eta: number): void {
  const sumB = net.biases.map((b) => b.map(() => 0));
  const sumW = net.weights.map((w) => w.map((row) => row.map(() => 0)));
  for (const { x, y } of batch) {
    const { nablaB, nablaW } = seedBackprop(net, x, y);
    nablaB.forEach((b, l) => b.forEach((v, j) => { sumB[l][j] += v; }));
    nablaW.forEach((w, l) => w.forEach((row, j) => row.forEach((v, k) => { sumW[l][j][k] += v; })));
  }
  const rate = eta / batch.length;
  net.weights = net.weights.map((w, l) => w.map((row, j) => row.map((v, k) => v - rate * sumW[l][j][k])));
  net.biases = net.biases.map((b, l) => b.map((v, j) => v - rate * sumB[l][j]));
}
