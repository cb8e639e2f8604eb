/**
 * A TensorFlow.js LayersModel (model.json + weights.bin) built by tfjs itself: a tf.sequential of sigmoid Dense
 * layers given our weights, saved through a custom IOHandler, so the files are exactly what tf.loadLayersModel reads.
 * A Dense kernel is [nIn, nOut], the transpose of our [nOut, nIn] rows; tfjs holds weights as float32.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../coordinator/reference/tfjs-gradient.js';
import type { CostName } from '../shared/network/cost.js';
import type { ParamLayout, Params } from '../shared/network/layout.js';

/** The files of a LayersModel directory; model.json's manifest names WEIGHTS_FILE, relative to itself. */
export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

export interface TfjsModelFiles {
  /** The model.json object: topology, format, weightsManifest. */
  modelJson: Record<string, unknown>;
  /** weights.bin: every weight in manifest order, little-endian float32. */
  weights: Uint8Array;
}

/** Layer l's Dense kernel: kernel[k][j] = w[j][k], flat row-major [nIn × nOut], as float32. */
export function denseKernel(layout: ParamLayout, params: Params, l: number): Float32Array {
  const { nIn, nOut, wOffset } = layout.layers[l];
  const kernel = new Float32Array(nIn * nOut);
  for (let j = 0; j < nOut; j++) {
    const row = wOffset + j * nIn;
    for (let k = 0; k < nIn; k++) kernel[k * nOut + j] = params.weights[row + k];
  }
  return kernel;
}

/** Builds the model in tfjs with our parameters and captures what model.save() produces. */
export async function tfjsModelFiles(tf: Tf, layout: ParamLayout, params: Params, cost: CostName): Promise<TfjsModelFiles> {
  const model = tf.sequential({ name: 'nabla' });
  layout.layers.forEach(({ nIn, nOut }, l) => {
    model.add(tf.layers.dense({
      units: nOut, activation: 'sigmoid', useBias: true, name: `dense_${l + 1}`, kernelInitializer: 'zeros',
      ...(l === 0 ? { inputShape: [nIn] } : {}),
    }));
  });
  const tensors = layout.layers.flatMap(({ nIn, nOut, bOffset }, l) => [
    tf.tensor2d(denseKernel(layout, params, l), [nIn, nOut], 'float32'),
    tf.tensor1d(Float32Array.from(params.biases.subarray(bOffset, bOffset + nOut)), 'float32'),
  ]);
  let saved: tfjs.io.ModelArtifacts | null = null;
  try {
    model.setWeights(tensors);
    model.setUserDefinedMetadata({ nabla: { sizes: [...layout.sizes], cost, activation: 'sigmoid' } });
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }));
  } finally {
    tf.dispose(tensors);
    model.dispose();
  }
  const artifacts = saved as tfjs.io.ModelArtifacts | null;
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('TensorFlow.js saved the model without weights');
  // The layout of a model.json, as tfjs's own file and HTTP handlers write it (getModelJSONForModelArtifacts).
  const modelJson: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  return { modelJson, weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) };
}
