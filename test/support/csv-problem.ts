import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../shared/rng.js';

/**
 * Writes a small learnable classification problem as CSV (label,x1,…,xn): `classes` Gaussian blobs in `features`
 * dimensions. Returns the file path. Deterministic for a given seed.
 */
export function writeBlobsCsv(options: { rows: number; features: number; classes: number; seed: number; dir?: string; name?: string }): string {
  const centerRng = new Rng(options.features * 1000 + options.classes);
  const rng = new Rng(options.seed);
  const centers = Array.from({ length: options.classes }, () => Array.from({ length: options.features }, () => centerRng.nextFloat()));
  const lines: string[] = [];
  for (let i = 0; i < options.rows; i++) {
    const label = rng.nextInt(options.classes);
    const x = centers[label].map((c) => (c + 0.15 * rng.nextGaussian()).toFixed(4));
    lines.push(`${label},${x.join(',')}`);
  }
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nabla-test-'));
  const path = join(dir, options.name ?? 'blobs.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
