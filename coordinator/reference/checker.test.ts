import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from './backend.js';
import { ReferenceChecker } from './checker.js';
import type { ReferenceJob } from './checker.js';
import { compareGradients, DEFAULT_CHECK_TOLERANCE } from './compare.js';
import type { GradientComparison } from './compare.js';
import { clusterGradient, randomProblem } from '../../test/support/reference-problem.js';
import { referenceGradient } from './tfjs-gradient.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function jobFor(step: number, sizes: number[], rows: number): ReferenceJob {
  const problem = randomProblem(step, sizes, rows);
  return { step, sizes, cost: 'quadratic', params: problem.params, x: problem.x, y: problem.y, rows, clusterGradient: clusterGradient(problem) };
}

/** The comparison computed in this thread, with the same backend the checker's thread uses. */
async function directComparison(job: ReferenceJob, backend: string, tolerance = DEFAULT_CHECK_TOLERANCE): Promise<GradientComparison> {
  const { tf } = await loadTf(backend as 'wasm');
  const reference = referenceGradient(tf, job.sizes, job.params, job.x, job.y, job.rows, 'quadratic');
  return compareGradients(randomProblem(1, job.sizes, 1).layout, job.clusterGradient, reference, tolerance);
}

describe('ReferenceChecker, from the .ts sources (the thread transpiles them)', () => {
  let checker: ReferenceChecker;
  beforeAll(async () => {
    checker = await ReferenceChecker.start({ tolerance: DEFAULT_CHECK_TOLERANCE });
  });
  afterAll(async () => {
    await checker?.close();
  });

  it.runIf(process.platform === 'linux')('runs its thread at the lowest priority, and only that thread (Linux: nice is per thread)', () => {
    const niceOf = (task: string): number => Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const nice = readdirSync('/proc/self/task').map(niceOf);
    expect(niceOf(String(process.pid))).toBe(0);
    expect(nice.filter((value) => value === 19)).toHaveLength(1);
  });

  it('reports the backend its thread loaded', () => {
    expect(['tensorflow', 'wasm', 'cpu']).toContain(checker.backend);
    expect(checker.tolerance).toBe(DEFAULT_CHECK_TOLERANCE);
  });

  it('returns the same comparison through the thread as a direct call', async () => {
    for (const [sizes, rows] of [[[784, 30, 10], 10], [[5, 8, 6, 4, 3], 1], [[6, 5, 1], 4]] as const) {
      const job = jobFor(rows + sizes.length, [...sizes], rows);
      const result = await checker.check(job);
      expect(result.step).toBe(job.step);
      expect(result.backend).toBe(checker.backend);
      expect(result.referenceMs).toBeGreaterThan(0);
      expect(result.comparison.ok).toBe(true);
      expect(result.comparison).toEqual(await directComparison(job, checker.backend));
    }
  });

  it('reports a wrong gradient found in the thread', async () => {
    const job = jobFor(3, [4, 3, 2], 6);
    for (let i = 0; i < job.clusterGradient.biases.length; i++) job.clusterGradient.biases[i] *= -1;
    const result = await checker.check(job);
    expect(result.comparison.ok).toBe(false);
    expect(result.comparison).toEqual(await directComparison(job, checker.backend));
  });

  it('copies the job at once: the caller may overwrite its buffers while the check runs', async () => {
    const job = jobFor(11, [784, 30, 10], 10);
    const expected = await directComparison(job, checker.backend);
    const lengths = [job.params.weights.length, job.x.length, job.clusterGradient.weights.length];
    const pending = checker.check(job);
    // Reuse every buffer for the next step straight away.
    for (const array of [job.params.weights, job.params.biases, job.x, job.y, job.clusterGradient.weights, job.clusterGradient.biases]) array.fill(7);
    expect(await pending).toMatchObject({ step: 11, comparison: expected });
    expect([job.params.weights.length, job.x.length, job.clusterGradient.weights.length]).toEqual(lengths); // nothing detached
  });

  it('runs several checks queued at once and answers each with its own step', async () => {
    const jobs = [21, 22, 23].map((step) => jobFor(step, [4, 3, 2], step - 19));
    const results = await Promise.all(jobs.map((job) => checker.check(job)));
    expect(results.map((r) => r.step)).toEqual([21, 22, 23]);
    expect(checker.pending).toBe(0);
  });

  it('rejects a job whose arrays do not fit its sizes, naming the field', async () => {
    const job = jobFor(5, [4, 3, 2], 2);
    await expect(checker.check({ ...job, clusterGradient: { weights: new Float64Array(3), biases: job.clusterGradient.biases } }))
      .rejects.toThrow('reference check of step 5: clusterGradient.weights has 3 values, expected 18 for 2 rows of sizes [4,3,2]');
    await expect(checker.check({ ...job, rows: 3 })).rejects.toThrow(/x has 8 values, expected at least 12/);
    // The checker is still usable afterwards.
    expect((await checker.check(job)).comparison.ok).toBe(true);
  });
});

describe('ReferenceChecker lifecycle', () => {
  it('rejects pending and later checks once closed', async () => {
    const checker = await ReferenceChecker.start({ tolerance: 1e-3 });
    const pending = expect(checker.check(jobFor(1, [784, 256, 10], 64))).rejects.toThrow('reference checker closed');
    await checker.close();
    await pending;
    await expect(checker.check(jobFor(2, [4, 3, 2], 1))).rejects.toThrow('reference checker closed');
  });

  it('uses the tolerance it was started with', async () => {
    const checker = await ReferenceChecker.start({ tolerance: 1e-12 });
    try {
      const result = await checker.check(jobFor(4, [784, 30, 10], 10));
      expect(result.comparison.tolerance).toBe(1e-12);
      expect(result.comparison.ok).toBe(false); // float32 cannot meet 1e-12
    } finally {
      await checker.close();
    }
  });

  it('refuses a tolerance that is not positive', async () => {
    await expect(ReferenceChecker.start({ tolerance: 0 })).rejects.toThrow(RangeError);
  });
});

describe('ReferenceChecker, compiled to JavaScript (as `npm run build` ships it)', () => {
  // Compiles just this folder's checker and thread (and what they import) with the repository's tsconfig
  // settings into a temporary directory, so the production path — the thread started from its sibling .js — is
  // tested without building the whole repository.
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(path.join(tmpdir(), 'nabla-reference-'));
    const configPath = path.join(repoRoot, 'tsconfig.json');
    const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, repoRoot);
    const entries = ['checker.ts', 'reference-thread.ts', 'random-problem.ts'].map((f) => path.join(repoRoot, 'coordinator/reference', f));
    const program = ts.createProgram(entries, { ...options, outDir, rootDir: repoRoot, noEmit: false, sourceMap: false, declaration: false });
    const emitted = program.emit();
    expect(emitted.emitSkipped).toBe(false);
    expect(existsSync(path.join(outDir, 'coordinator/reference/reference-thread.js'))).toBe(true);
    writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}\n');
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
  });
  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('starts the compiled thread and agrees with the direct call', async () => {
    const compiled = (await import(pathToFileURL(path.join(outDir, 'coordinator/reference/checker.js')).href)) as typeof import('./checker.js');
    const checker = await compiled.ReferenceChecker.start({ tolerance: DEFAULT_CHECK_TOLERANCE });
    try {
      const job = jobFor(8, [784, 30, 10], 10);
      const result = await checker.check(job);
      expect(result.comparison).toEqual(await directComparison(job, checker.backend));
    } finally {
      await checker.close();
    }
  });
});
