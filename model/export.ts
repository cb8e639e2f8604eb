/** `nabla export`: a model file as a TensorFlow.js LayersModel directory or as network2.py's JSON, written atomically. */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../shared/atomic-file.js';
import { shapeOf } from '../shared/network/layout.js';
import { readModelFile, stringifyExact } from '../shared/network/model-file.js';
import { usage } from '../shared/usage-error.js';
import { NETWORK2_FILE, network2Json } from './export-network2.js';
import { loadTf } from '../coordinator/reference/backend.js';
import { TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, tfjsModelFiles } from './export-tfjs.js';

export const EXPORT_FORMATS = ['tfjs', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  modelPath: string;
  format: ExportFormat;
  outDir: string;
}

export interface WrittenFile {
  path: string;
  bytes: number;
}

export interface ExportResult {
  files: WrittenFile[];
  /** One line saying what the files hold and how to load them. */
  description: string;
}

/** Reads the model, creates --out if needed and writes the format's files into it. */
export async function runExport(options: ExportOptions): Promise<ExportResult> {
  const { layout, params, cost } = readModelFile(options.modelPath);
  const parameterCount = (layout.weightCount + layout.biasCount).toLocaleString('en-US');
  prepareOutDir(options.outDir);
  switch (options.format) {
    case 'tfjs': {
      const { tf } = await loadTf('cpu');
      const { modelJson, weights } = await tfjsModelFiles(tf, layout, params, cost);
      // Weights first: a model.json is only ever next to the weights it describes.
      const files = [
        writeOut(join(options.outDir, TFJS_WEIGHTS_FILE), weights),
        writeOut(join(options.outDir, TFJS_MODEL_FILE), `${JSON.stringify(modelJson)}\n`),
      ];
      return {
        files: files.reverse(),
        description: `TensorFlow.js LayersModel ${shapeOf(layout.sizes)}: ${layout.layers.length} sigmoid Dense layers, ${parameterCount} float32 parameters; ` +
          `load with tf.loadLayersModel('file://${resolve(options.outDir, TFJS_MODEL_FILE)}') in tfjs-node, or from an http(s) URL`,
      };
    }
    case 'json': {
      const network = network2Json(layout, params, cost);
      const file = writeOut(join(options.outDir, NETWORK2_FILE), `${stringifyExact(network)}\n`);
      return {
        files: [file],
        description: `network2.py JSON ${shapeOf(layout.sizes)}, ${parameterCount} float64 parameters, cost ${network.cost}; ` +
          `load with network2.load('${file.path}')`,
      };
    }
    default:
      return usage(`unknown export format ${JSON.stringify(options.format)}; use one of ${EXPORT_FORMATS.join(', ')}`);
  }
}

/** Creates the directory (and its parents) when missing; anything that makes it unusable is a usage error. */
function prepareOutDir(dir: string): void {
  const existing = statSync(dir, { throwIfNoEntry: false });
  if (existing?.isDirectory()) return;
  if (existing) usage(`--out ${dir} is a file; give a directory to write the model files into`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    usage(`--out ${dir}: cannot create the directory (${describeFsError(error)})`);
  }
}

/** Writes a file atomically (temporary file, fsync, rename); a failure is a usage error naming the file. */
function writeOut(path: string, contents: string | Uint8Array): WrittenFile {
  try {
    return { path, bytes: writeFileAtomic(path, contents) };
  } catch (error) {
    return usage(`cannot write ${path} (${describeFsError(error)}); is --out writable?`);
  }
}

function describeFsError(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** The lines `nabla export` prints: each file with its size, then what it holds. */
export function formatExport(result: ExportResult): string[] {
  return [...result.files.map(({ path, bytes }) => `wrote ${path} (${bytes.toLocaleString('en-US')} bytes)`), result.description];
}
