import { it } from 'vitest';
import { loadTf } from './backend.js';
import { referenceGradient } from './tfjs-gradient.js';
import { randomProblem, clusterGradient } from './random-problem.js';
it('times', async () => {
  const { tf, backend } = await loadTf(process.env.BACKEND as 'wasm');
  for (const [sizes, rows] of [[[784, 30, 10], 10], [[784, 256, 256, 10], 128]] as const) {
    const p = randomProblem(1, sizes, rows);
    const times: number[] = [];
    for (let r = 0; r < 25; r++) { const t0 = performance.now(); referenceGradient(tf, sizes, p.params, p.x, p.y, rows); times.push(performance.now() - t0); }
    const first = times[0]; times.sort((a, b) => a - b);
    const tc: number[] = [];
    for (let r = 0; r < 5; r++) { const t0 = performance.now(); clusterGradient(p); tc.push(performance.now() - t0); }
    tc.sort((a, b) => a - b);
    console.log(`TIME ${backend} ${JSON.stringify(sizes)} b${rows} first=${first.toFixed(2)} median=${times[12].toFixed(2)} min=${times[0].toFixed(2)} ms; jsGemm f64 median ${tc[2].toFixed(2)} ms; tensors ${tf.memory().numTensors}`);
  }
});
