/**
 * npm run bench:fashion — the acceptance run of the book's improved network on Fashion-MNIST, end to end:
 * trains through the cluster (2 local workers) with the configuration the README documents, prints the test
 * accuracy curve and the wall time, then exports the model for TensorFlow.js, loads it back with
 * tf.loadLayersModel and measures the accuracy TF.js gets on the same 10,000 test images.
 * Needs Debian's dataset-fashion-mnist (skipped with a message without it). Takes about 5 minutes here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../shared/data/spec.js';
import { loadTf } from '../coordinator/reference/backend.js';
import { fileLoader } from '../model/tfjs-file-loader.js';

const CLI = fileURLToPath(new URL('../bin/nabla.js', import.meta.url));
const FASHION = '/usr/share/datasets/fashion-mnist';
/** The README's configuration ("Beyond the seed"); keep the two the same. */
const FASHION_JOB = [
  '--data', `idx:${FASHION}`, '--sizes', '784,100,10', '--cost', 'cross-entropy', '--lambda', '5', '--init', 'scaled',
  '--batch', '50', '--eta', '1', '--epochs', '40', '--eta-schedule', 'halve-on-plateau', '--plateau', '3', '--stop-after', '8',
];
const TARGET = 0.88;

type Event = Record<string, unknown>;

async function trainFashion(save: string): Promise<{ events: Event[]; wallSeconds: number }> {
  const args = ['train', ...FASHION_JOB, '--workers', '2', '--save', save, '--json'];
  console.log(`nabla ${args.join(' ')}`);
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Event[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as Event;
    events.push(event);
    if (event.event === 'epoch') {
      console.log(`  epoch ${String(event.epoch).padStart(2)}  η ${String(event.eta).padEnd(9)} test accuracy ${((event.testAccuracy as number) * 100).toFixed(2)}%  ` +
        `(${(event.trainSeconds as number).toFixed(1)} s, ${Math.round(event.samplesPerSecond as number)} samples/s)`);
    }
    if (event.event === 'stopped-early') console.log(`  stopped: ${String(event.reason)}`);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`nabla train exited with ${code}`);
  return { events, wallSeconds: (performance.now() - started) / 1000 };
}

/** Accuracy of the exported LayersModel on the test images, computed by TF.js itself. */
async function tfjsAccuracy(modelJson: string): Promise<number> {
  const { tf } = await loadTf('cpu');
  const model = await tf.loadLayersModel(fileLoader(tf, modelJson));
  const { test } = await loadDataset(`idx:${FASHION}`);
  if (!test?.labels) throw new Error('the Fashion-MNIST test split did not load');
  const x = Float32Array.from(test.x, (v) => v / test.xDivisor);
  const predicted = tf.tidy(() => (model.predict(tf.tensor2d(x, [test.count, test.inputSize])) as import('@tensorflow/tfjs').Tensor).argMax(1).dataSync());
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
  return correct / test.count;
}

async function main(): Promise<void> {
  if (!existsSync(join(FASHION, 't10k-labels-idx1-ubyte.gz'))) {
    console.log(`bench:fashion skipped: ${FASHION} is missing (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'nabla-fashion-'));
  const save = join(dir, 'fashion.json');
  const { events, wallSeconds } = await trainFashion(save);
  const done = events.find((e) => e.event === 'done') as Event;
  const epochs = events.filter((e) => e.event === 'epoch');
  const best = Math.max(...epochs.map((e) => e.testAccuracy as number));

  const evaluation = spawnSync(process.execPath, [CLI, 'eval', '--model', save, '--data', `idx:${FASHION}`, '--json'], { encoding: 'utf8' });
  if (evaluation.status !== 0) throw new Error(`nabla eval failed: ${evaluation.stderr}`);
  const nablaAccuracy = (JSON.parse(evaluation.stdout) as { accuracy: number }).accuracy;
  const exported = spawnSync(process.execPath, [CLI, 'export', '--model', save, '--format', 'tfjs', '--out', join(dir, 'tfjs')], { encoding: 'utf8' });
  if (exported.status !== 0) throw new Error(`nabla export failed: ${exported.stderr}`);
  const tfAccuracy = await tfjsAccuracy(join(dir, 'tfjs', 'model.json'));

  const percent = (value: number): string => `${(value * 100).toFixed(2)}%`;
  console.log(`\n${epochs.length} epochs, ${Number(done.steps)} steps; wall time ${wallSeconds.toFixed(0)} s (training ${(done.seconds as number).toFixed(0)} s)`);
  console.log(`final test accuracy ${percent(done.testAccuracy as number)} (best epoch ${percent(best)}); target ≥ ${percent(TARGET)}: ${(done.testAccuracy as number) >= TARGET ? 'met' : 'NOT met'}`);
  console.log(`saved model: nabla eval ${percent(nablaAccuracy)}; exported to TF.js and loaded with tf.loadLayersModel: ${percent(tfAccuracy)}`);
}

await main();
