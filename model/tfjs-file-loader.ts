/**
 * An IOHandler that reads a LayersModel directory from disk for tf.loadLayersModel. tfjs-node, which adds
 * file:// URLs in Node, cannot install here, so this does what its file handler does: parse model.json, read the
 * weight files its manifest names (relative to model.json) and hand both to getModelArtifactsForJSON.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../coordinator/reference/tfjs-gradient.js';

export function fileLoader(tf: Tf, modelJsonPath: string): tfjs.io.IOHandler {
  return {
    load: async () => {
      const modelJson = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as tfjs.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) => group.paths.map((path) => {
          const bytes = readFileSync(join(dirname(modelJsonPath), path));
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        }));
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}
