import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runNabla } from '../support/cluster.js';

/** V8's full collections in the coordinator of `nabla train` (its local workers are started without --trace-gc). */
async function coordinatorMarkCompacts(nodeFlags: string[]): Promise<number> {
  const { code, stdout } = await runNabla(['train', '--epochs', '8', '--check-every', '0'], { nodeFlags: [...nodeFlags, '--trace-gc'] });
  expect(code).toBe(0);
  expect(stdout).toMatch(/^done: 8 epochs/m);
  return stdout.split('\n').filter((line) => line.includes('Mark-Compact')).length;
}

const repo = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('heap growth (shared/heap-growth.ts)', () => {
  it('needs no flags on node\'s command line: the CLI\'s shebang and the image\'s entrypoint are plain `node`', () => {
    // `#!/usr/bin/env -S node …` fails where env has no -S (BusyBox, so Alpine, and the BSDs).
    expect(repo('bin/nabla.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(repo('Dockerfile')).toContain('ENTRYPOINT ["node", "/app/dist/bin/nabla.js"]');
  });

  it('keeps the coordinator of the default job almost free of full collections when started as plain `node`, and yields to a --heap-growing-percent on node\'s own command line', async () => {
    // The second run passes V8's default (0: its own growth heuristics), which nabla must not override: it shows
    // what the tuning removes (≈ 3 mark-compacts against ≈ 24 here over 8 epochs).
    const [tuned, userDefault] = await Promise.all([coordinatorMarkCompacts([]), coordinatorMarkCompacts(['--heap-growing-percent=0'])]);
    expect(tuned).toBeLessThanOrEqual(8);
    expect(userDefault).toBeGreaterThan(2 * tuned);
  }, 120_000);
});
