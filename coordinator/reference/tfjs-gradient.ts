import type * as tfjs from '@tensorflow/tfjs';
import type { CostName } from '../../shared/network/cost.js';
import { createLayout, shapeOf, zeroParams } from '../../shared/network/layout.js';
import type { ParamLayout, Params } from '../../shared/network/layout.js';

/** The TensorFlow.js namespace, whichever package (tfjs, tfjs-node) supplied it. */
export type Tf = typeof tfjs;

/**
 * The gradient of the cost summed over the rows — quadratic C = ½ Σ ‖a^L − y‖², or cross-entropy
 * C = −Σ [y ln a + (1 − y) ln(1 − a)] — with respect to every weight and bias, computed by TensorFlow.js automatic
 * differentiation (tf.grads): an oracle independent of our BP1–BP4 code. Returned in the seed's flat
 * layout as SUMS over the rows, like backpropSums, widened from float32 to float64.
 *
 * The network is built from plain ops: z = a·Wᵀ + b with W kept in the seed's [nOut × nIn] orientation
 * (a tfjs dense kernel would be Wᵀ; matMul's transposeB does that here, so the gradient comes back in our layout).
 * All tensors live inside one tf.tidy, so nothing leaks however often it runs.
 */
export function referenceGradient(
  tf: Tf, sizes: readonly number[], params: Params, x: Float64Array, y: Float64Array, rows: number, cost: CostName,
): Params {
  const layout = createLayout(sizes);
  checkOperands(layout, params, x, y, rows);
  const nIn = layout.sizes[0];
  const nOutput = layout.sizes[layout.sizes.length - 1];
  const nabla = zeroParams(layout);

  tf.tidy(() => {
    // Float32 explicitly: tfjs computes in float32 whatever it is given; spelling it out keeps that visible.
    const xs = tf.tensor2d(toFloat32(x, 0, rows * nIn), [rows, nIn]);
    const ys = tf.tensor2d(toFloat32(y, 0, rows * nOutput), [rows, nOutput]);
    const weights = layout.layers.map(({ nIn: k, nOut: j, wOffset }) => tf.tensor2d(toFloat32(params.weights, wOffset, j * k), [j, k]));
    const biases = layout.layers.map(({ nOut, bOffset }) => tf.tensor1d(toFloat32(params.biases, bOffset, nOut)));
    const L = layout.layers.length;

    const costOf = (...wb: tfjs.Tensor[]): tfjs.Tensor => {
      let a: tfjs.Tensor = xs;
      for (let l = 0; l < L - 1; l++) {
        a = tf.sigmoid(tf.add(tf.matMul(a, wb[l] as tfjs.Tensor2D, false, true), wb[L + l]));
      }
      const z = tf.add(tf.matMul(a, wb[L - 1] as tfjs.Tensor2D, false, true), wb[2 * L - 1]);
      if (cost === 'quadratic') return tf.mul(0.5, tf.sum(tf.square(tf.sub(tf.sigmoid(z), ys))));
      // Cross-entropy of a = σ(z), in the overflow-free form max(z, 0) − z·y + ln(1 + e^(−|z|)): the same function,
      // but float32 cannot round σ(z) to exactly 0 or 1 inside a logarithm.
      return tf.sum(tf.add(tf.sub(tf.relu(z), tf.mul(z, ys)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))));
    };
    const gradients = tf.grads(costOf)([...weights, ...biases]);

    for (let l = 0; l < L; l++) {
      const { wOffset, bOffset } = layout.layers[l];
      nabla.weights.set(gradients[l].dataSync(), wOffset);
      nabla.biases.set(gradients[L + l].dataSync(), bOffset);
    }
  });
  return nabla;
}

function toFloat32(values: Float64Array, offset: number, count: number): Float32Array {
  return Float32Array.from(values.subarray(offset, offset + count));
}

function checkOperands(layout: ParamLayout, params: Params, x: Float64Array, y: Float64Array, rows: number): void {
  const sizes = shapeOf(layout.sizes);
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`reference gradient: rows must be a positive integer, got ${rows}`);
  if (params.weights.length !== layout.weightCount) {
    throw new RangeError(`reference gradient: ${params.weights.length} weights, expected ${layout.weightCount} for sizes ${sizes}`);
  }
  if (params.biases.length !== layout.biasCount) {
    throw new RangeError(`reference gradient: ${params.biases.length} biases, expected ${layout.biasCount} for sizes ${sizes}`);
  }
  const xNeeded = rows * layout.sizes[0];
  if (x.length < xNeeded) throw new RangeError(`reference gradient: x holds ${x.length} values, ${rows} rows of sizes ${sizes} need ${xNeeded}`);
  const yNeeded = rows * layout.sizes[layout.sizes.length - 1];
  if (y.length < yNeeded) throw new RangeError(`reference gradient: y holds ${y.length} values, ${rows} rows of sizes ${sizes} need ${yNeeded}`);
}
