/**
 * The TensorFlow.js export, loaded back with tf.loadLayersModel. tfjs-node (which adds file:// URLs in Node) cannot
 * install here, so the files are read with fileLoader (tfjs-test-support.ts), which does what tfjs-node's file
 * handler does, or handed over with tf.io.fromMemory.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { feedforward } from '../shared/network/forward.js';
import { createLayout, type ParamLayout, type Params } from '../shared/network/layout.js';
import { writeModelFile } from '../shared/network/model-file.js';
import { createWorkspace, layerViews } from '../shared/network/workspace.js';
import { randomProblem } from '../test/support/random-problem.js';
import { runExport } from './export.js';
import { loadTf } from '../coordinator/reference/backend.js';
import { denseKernel, tfjsModelFiles } from './export-tfjs.js';
import { fileLoader } from './tfjs-file-loader.js';

/** Our float64 outputs for `rows` input rows. */
function ourOutputs(layout: ParamLayout, params: Params, x: Float64Array, rows: number): Float64Array {
  const ws = createWorkspace(layout, rows);
  ws.activations[0].set(x);
  feedforward(jsGemm, layerViews(layout, params), ws, rows);
  return ws.activations[layout.layers.length].slice(0, rows * layout.sizes[layout.sizes.length - 1]);
}

function largestDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
  return largest;
}

describe('the TensorFlow.js export', () => {
  it('transposes our [nOut, nIn] weight rows into a Dense kernel [nIn, nOut]', () => {
    const layout = createLayout([3, 2]);
    // w = [[1, 2, 3], [4, 5, 6]]: neuron j's row; the kernel's row k holds input k's weight to each neuron.
    const params = { weights: Float64Array.of(1, 2, 3, 4, 5, 6), biases: Float64Array.of(0, 0) };
    expect(Array.from(denseKernel(layout, params, 0))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('gives a model whose predictions are ours to float32 precision, with stable weight names', async () => {
    const { tf } = await loadTf('cpu');
    const { layout, params, samples } = randomProblem(9, [6, 5, 4, 3], 50);
    const first = await tfjsModelFiles(tf, layout, params, 'quadratic');
    const again = await tfjsModelFiles(tf, layout, params, 'quadratic');
    const manifest = (first.modelJson.weightsManifest as Array<{ paths: string[]; weights: Array<{ name: string; shape: number[] }> }>)[0];
    expect(manifest.paths).toEqual(['weights.bin']);
    expect(manifest.weights.map(({ name, shape }) => `${name} ${shape.join('x')}`))
      .toEqual(['dense_1/kernel 6x5', 'dense_1/bias 5', 'dense_2/kernel 5x4', 'dense_2/bias 4', 'dense_3/kernel 4x3', 'dense_3/bias 3']);
    expect(again.modelJson).toEqual(first.modelJson); // nothing depends on what the process built before
    expect(first.weights.byteLength).toBe(4 * (layout.weightCount + layout.biasCount));

    const loaded = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: first.modelJson.modelTopology as object,
      weightSpecs: manifest.weights as never,
      weightData: first.weights.buffer.slice(first.weights.byteOffset, first.weights.byteOffset + first.weights.byteLength),
    }));
    const input = tf.tensor2d(Float32Array.from(samples.x), [50, 6]);
    const theirs = (loaded.predict(input) as tfjs.Tensor).dataSync();
    const ours = ourOutputs(layout, params, samples.x as Float64Array, 50);
    expect(largestDifference(theirs, ours)).toBeLessThan(1e-6);
    tf.dispose(input);
    loaded.dispose();
  });

  it('writes model.json and weights.bin that tf.loadLayersModel reads from the directory, creating it', async () => {
    const { tf } = await loadTf('cpu');
    const { layout, params, samples } = randomProblem(4, [4, 3, 2], 10);
    const dir = mkdtempSync(join(tmpdir(), 'nabla-tfjs-'));
    const modelPath = join(dir, 'model.json');
    writeModelFile(modelPath, layout, params);
    const outDir = join(dir, 'new', 'web');
    const result = await runExport({ modelPath, format: 'tfjs', outDir });
    expect(result.files).toEqual([
      { path: join(outDir, 'model.json'), bytes: expect.any(Number) },
      { path: join(outDir, 'weights.bin'), bytes: 4 * (layout.weightCount + layout.biasCount) },
    ]);
    const loaded = await tf.loadLayersModel(fileLoader(tf, join(outDir, 'model.json')));
    const theirs = (loaded.predict(tf.tensor2d(Float32Array.from(samples.x), [10, 4])) as tfjs.Tensor).dataSync();
    expect(largestDifference(theirs, ourOutputs(layout, params, samples.x as Float64Array, 10))).toBeLessThan(1e-6);
    loaded.dispose();
  });
});
