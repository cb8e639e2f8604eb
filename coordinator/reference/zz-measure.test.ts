import { it } from 'vitest';
import { loadTf } from './backend.js';
import { referenceGradient } from './tfjs-gradient.js';
import { randomProblem, clusterGradient } from './random-problem.js';
import { compareGradients, formatErrorTable, formatMismatch } from './compare.js';
import { sgdLike } from './zz-sgd.js';

it('errors', async () => {
  for (const plain of [process.env.SIG === 'plain']) for (const pref of [process.env.BACKEND as 'wasm']) { (globalThis as any).PLAIN_SIGMOID = plain;
    const { tf, backend } = await loadTf(pref);
    const cases: [number[], number, number, string][] = [
      [[784, 30, 10], 10, 40, 'plain'], [[784, 256, 256, 10], 128, 6, 'plain'],
      [[784, 30, 10], 1, 40, 'plain'], [[784, 30, 10], 1000, 5, 'plain'], [[784, 100, 10], 64, 10, 'plain'],
      [[4, 3, 2], 5, 40, 'plain'], [[5, 8, 6, 4, 3], 7, 40, 'plain'], [[6, 5, 1], 1, 40, 'plain'],
      [[784, 30, 10], 10, 20, 'x3'], [[784, 30, 30, 30, 30, 10], 10, 20, 'plain'], [[784, 30, 30, 30, 30, 10], 10, 20, 'x3'],
      [[784, 30, 10], 10, 20, 'x0.05'], [[784, 30, 10], 10, 10, 'trained'], [[784, 100, 30, 10], 32, 5, 'trained'],
    ];
    for (const [sizes, rows, seeds, mode] of cases) {
      let worst = 0; let worstTable = ''; let worstMsg = '';
      for (let seed = 1; seed <= seeds; seed++) {
        const p = randomProblem(seed, sizes, rows);
        if (mode.startsWith('x')) { const f = Number(mode.slice(1)); p.params.weights.forEach((v, i, a) => { a[i] = v * f; }); }
        if (mode === 'trained') sgdLike(p, 200);
        const c = clusterGradient(p);
        const r = referenceGradient(tf, sizes, p.params, p.x, p.y, rows);
        const cmp = compareGradients(p.layout, c, r, 2e-3);
        if (cmp.maxRelError > worst) { worst = cmp.maxRelError; worstTable = formatErrorTable(cmp); worstMsg = formatMismatch(seed, cmp); }
      }
      console.log(`RESULT ${plain ? 'sigmoid' : 'exp-logsig'} ${backend} ${JSON.stringify(sizes)} b${rows} ${mode} worst=${worst.toExponential(2)}\n${worstTable}\n${worstMsg}`);
    }
  }
});
