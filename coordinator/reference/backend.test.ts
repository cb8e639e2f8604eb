import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadTf } from './backend.js';
import { randomProblem } from '../../test/support/reference-problem.js';
import { referenceGradient } from './tfjs-gradient.js';

describe('loadTf', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('loads the cpu backend without tfjs\'s "install tfjs-node" banner', async () => {
    const printed: unknown[][] = [];
    for (const method of ['log', 'warn', 'info', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args));
    }
    const { tf, backend } = await loadTf('cpu');
    expect(backend).toBe('cpu');
    const problem = randomProblem(1, [4, 3, 2], 2);
    referenceGradient(tf, [4, 3, 2], problem.params, problem.x, problem.y, 2, 'quadratic'); // the banner came on the first tensor
    expect(printed).toEqual([]);
  });

  it('really initialises the wasm backend from the .wasm files in node_modules, leaving process listeners alone', async () => {
    // Emscripten's glue adds rethrowing uncaughtException/unhandledRejection listeners as wasm initialises;
    // loadTf removes them again. (This must be the file's first wasm load to mean anything.)
    const listenerCounts = (): number[] => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const before = listenerCounts();
    const { tf, backend } = await loadTf('wasm');
    expect(listenerCounts()).toEqual(before);
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()))).toEqual([11]);
  });

  it('picks the fastest backend that loads and says why it passed over faster ones', async () => {
    const { tf, backend, skipped } = await loadTf();
    expect(tf.getBackend()).toBe(backend);
    expect(['tensorflow', 'wasm']).toContain(backend); // wasm ships in the npm package, so cpu is never needed here
    if (backend !== 'tensorflow') expect(skipped[0]).toMatch(/^tensorflow: .*tfjs-node/);
  });
});
