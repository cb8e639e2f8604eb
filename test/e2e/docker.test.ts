import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The Docker deployment, for real: build the image offline (a base image imported from this machine's own Node,
 * node_modules from the build context), then run docker-compose.yml the way docs/DOCKER.md says:
 * - `up --scale worker=3 --exit-code-from coordinator` trains the bundled digits to completion and exits 0;
 * - `up -d --scale worker=4` while that job runs adds a worker that joins mid-run and trains, and the final
 *   parameters are bit-identical to the 3-worker run;
 * - the workers share the coordinator's /dev/shm, so parameters and gradients go through shared memory.
 * Needs a docker daemon, or root to install and start one (scripts/docker/ensure-docker.sh, as CI does).
 * SKIP_DOCKER_E2E=1 skips it (it takes one to three minutes).
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BASE_IMAGE = 'nabla-base:local';
const RUN_ID = `${process.pid}-${randomBytes(2).toString('hex')}`;
/** A tag of this run's own, so that runs at the same time (other `npm test`s) never swap each other's image. */
const IMAGE = `nabla:e2e-${RUN_ID}`;
/** Long enough to scale up mid-run (2-5 s an epoch with 3 workers; the 4th joins ~3 s after the first step), short enough for a run of ~30 s. */
const EPOCHS = 6;
const TOKEN = randomBytes(16).toString('hex');
const MINUTE_MS = 60_000;

const skipReason = whyThisCannotRun();
if (skipReason !== null) console.warn(`docker.test.ts skipped: ${skipReason}`);

/** Null when docker works here or can be made to (root); otherwise why not. */
function whyThisCannotRun(): string | null {
  if (process.env.SKIP_DOCKER_E2E === '1') return 'SKIP_DOCKER_E2E=1';
  if (process.platform !== 'linux') return 'the Docker e2e test needs Linux';
  if (spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 30_000 }).status === 0) return null;
  if (process.getuid?.() !== 0) {
    return `no docker daemon answers and this is not root (uid ${process.getuid?.()}), so scripts/docker/ensure-docker.sh cannot install or start one; CI runs it as root`;
  }
  return null;
}

interface Finished { code: number | null; stdout: string; stderr: string; ms: number }

/** Runs a command to the end (killing it after timeoutMs); never throws for a non-zero exit. */
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const startedMs = Date.now();
    const child = spawn(command, args, { cwd: REPO, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no end after ${options.timeoutMs} ms\n${tail(stdout + stderr)}`));
    }, options.timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - startedMs });
    });
  });
}

/** Runs a command that must succeed; throws with its output otherwise. */
async function mustRun(command: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Finished> {
  const result = await run(command, args, { timeoutMs, env });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${tail(result.stdout + result.stderr)}`);
  return result;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** `docker-compose` (1.29, Debian's) when installed, else `docker compose` (v2). */
function composeCommand(): string[] {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  throw new Error('neither docker-compose nor `docker compose` works; run scripts/docker/ensure-docker.sh');
}

/**
 * The environment docker-compose.yml is interpolated with: a short job, a fresh token, a random host port (so a
 * job already on 8080 does not matter), no reference check. NABLA_* variables of our own environment are left
 * out, so nothing but this job's settings reaches the containers.
 */
function jobEnv(isJson: boolean): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NABLA_')));
  return {
    ...env, IMAGE, COORDINATOR_PUBLISH: '127.0.0.1:', NABLA_TOKEN: TOKEN, NABLA_EPOCHS: String(EPOCHS),
    NABLA_MIN_WORKERS: '3', NABLA_CHECK_EVERY: '0', NABLA_JSON: String(isJson),
  };
}

type Event = Record<string, unknown> & { atMs: number };

/** Follows a container's log (`docker logs -f --timestamps`): JSON lines become events stamped with docker's time. */
class LogFollower {
  readonly events: Event[] = [];
  private text = '';
  private hasEnded = false;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(containerId: string) {
    this.child = spawn('docker', ['logs', '-f', '--timestamps', containerId], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    this.child.on('close', () => { this.hasEnded = true; this.notify(); });
  }

  private onLine(line: string): void {
    this.text += `${line}\n`;
    const space = line.indexOf(' ');
    const body = line.slice(space + 1);
    if (body.startsWith('{')) {
      try {
        this.events.push({ ...(JSON.parse(body) as Record<string, unknown>), atMs: Date.parse(line.slice(0, space)) });
      } catch {
        // not an event: kept in the text only
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** The first event (from index `from`) matching `predicate`; rejects on timeout or when the log ends first. */
  waitFor(what: string, predicate: (event: Event, index: number) => boolean, timeoutMs: number, from = 0): Promise<Event & { index: number }> {
    return new Promise((resolve, reject) => {
      let next = from;
      const check = (): void => {
        for (; next < this.events.length; next++) {
          if (predicate(this.events[next], next)) return done(() => resolve({ ...this.events[next], index: next }));
        }
        if (this.hasEnded) done(() => reject(new Error(`the coordinator's log ended before ${what}\n${tail(this.text)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms\n${tail(this.text)}`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  stop(): void {
    if (!this.hasEnded) this.child.kill();
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

describe.skipIf(skipReason !== null)('docker-compose: the image built offline, a coordinator and scaled workers', () => {
  let compose: string[] = [];
  /** The final parameter fingerprint of the 3-worker run: the 4-worker run must end with the same bits. */
  let threeWorkerParamHash: string | null = null;
  /** Whether the host's node_modules has a working nblas: then the image must run the OpenBLAS kernel too. */
  const hostHasBlas = spawnSync(process.execPath, ['-e', "require('nblas')"], { cwd: REPO, stdio: 'ignore' }).status === 0;

  const composeRun = (project: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Finished> =>
    run(compose[0], [...compose.slice(1), '-f', 'docker-compose.yml', '-p', project, ...args], { env, timeoutMs });
  const down = async (project: string): Promise<void> => {
    const result = await composeRun(project, ['down', '-v', '--remove-orphans', '-t', '2'], jobEnv(false), 2 * MINUTE_MS);
    if (result.code !== 0) console.warn(`docker-compose down for ${project} exited ${result.code}: ${tail(result.stderr)}`);
  };

  beforeAll(async () => {
    const ensured = await mustRun('bash', ['scripts/docker/ensure-docker.sh'], 8 * MINUTE_MS);
    compose = composeCommand();
    const base = await mustRun('bash', ['scripts/docker/build-base-image.sh', BASE_IMAGE], 3 * MINUTE_MS);
    // The classic builder, for its plain step-by-step output (the Dockerfile works with BuildKit as well).
    const build = await mustRun('docker', ['build', '--force-rm', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, '.'], 10 * MINUTE_MS, { ...process.env, DOCKER_BUILDKIT: '0' });
    const output = build.stdout + build.stderr;
    const isInstallStepCached = /npm ci --no-audit --no-fund; fi\s*\n\s*---> Using cache/.test(output);
    // The echo's output on a line of its own (the step's header line repeats the command).
    if (!isInstallStepCached) expect(output, 'the offline path: node_modules from the build context').toMatch(/^nabla: using node_modules from the build context; npm ci skipped$/m);
    const imageBytes = Number(spawnSync('docker', ['image', 'inspect', '-f', '{{.Size}}', IMAGE], { encoding: 'utf8' }).stdout.trim());
    console.log(`docker e2e: ${tail(ensured.stderr, 1)}; base image in ${seconds(base.ms)}; ` +
      `docker build in ${seconds(build.ms)}, ${IMAGE} is ${(imageBytes / 1e6).toFixed(0)} MB; compose: ${compose.join(' ')}`);
  }, 20 * MINUTE_MS);

  afterAll(() => {
    if (compose.length === 0) return; // docker never came up
    spawnSync('docker', ['image', 'rm', IMAGE], { stdio: 'ignore' });
    // The build stage's untagged images (~550 MB each; only ours, by label): keep the newest as the build cache,
    // and any from the last 10 minutes (another run may be building on it).
    const stages = spawnSync('docker', ['image', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'label=nabla.stage=build'], { encoding: 'utf8' });
    const ids = [...new Set(stages.stdout.split('\n').filter(Boolean))];
    const stale = ids.slice(1).filter((id) => {
      const created = spawnSync('docker', ['image', 'inspect', '-f', '{{.Created}}', id], { encoding: 'utf8' }).stdout.trim();
      return Date.now() - Date.parse(created) > 10 * MINUTE_MS;
    });
    if (stale.length > 0) spawnSync('docker', ['image', 'rm', ...stale], { stdio: 'ignore' });
  });

  it('trains the bundled digits with `up --scale worker=3 --exit-code-from coordinator`: exit 0, final accuracy, 3 workers', async () => {
    const project = `nabla-e2e-${RUN_ID}-three`;
    try {
      const up = await composeRun(project, ['up', '--no-color', '--scale', 'worker=3', '--exit-code-from', 'coordinator'], jobEnv(false), 8 * MINUTE_MS);
      const log = up.stdout + up.stderr;
      expect(up.code, tail(log)).toBe(0);
      const done = /done: (\d+) epochs, .*final test accuracy (\d+\.\d+)%, params ([0-9a-f]{16})/.exec(up.stdout);
      expect(done, tail(log)).not.toBeNull();
      const [, epochs, accuracy, paramHash] = done as RegExpExecArray;
      expect(Number(epochs)).toBe(EPOCHS);
      expect(Number(accuracy)).toBeGreaterThan(85);
      const joined = new Set([...up.stdout.matchAll(/\+ worker (w\d+) joined/g)].map((match) => match[1]));
      expect([...joined].sort()).toEqual(['w1', 'w2', 'w3']);
      // The workers share the coordinator's IPC namespace (ipc: service:coordinator), so its /dev/shm: the lane
      // handshake, which checks both sides see the same tmpfs, succeeds for each.
      expect(up.stdout.match(/\+ worker w\d+ joined \(.*, shared memory\)/g)?.length, 'every worker moves its arrays through shared memory').toBe(3);
      expect(up.stdout, 'wire and shared-memory traffic of the epochs').toMatch(/epoch \d+: .*wire .*\/step \(\+ .*\/step in shared memory\)/);
      expect(up.stdout.match(/training finished: /g)?.length, 'each worker says training finished').toBe(3);
      if (hostHasBlas) {
        expect(up.stdout, 'the image keeps the fast kernel and the C loops').toMatch(/training \[784,30,10\] on .*kernel openblas.* \+ C loops/);
        expect(up.stdout.match(/\+ worker w\d+ joined \(.*kernel openblas[,)]/g)?.length, 'every worker runs OpenBLAS').toBe(3);
      }
      threeWorkerParamHash = paramHash;
      console.log(`docker e2e: 3 workers, ${EPOCHS} epochs: up → exit 0 in ${seconds(up.ms)}, final accuracy ${accuracy}%, params ${paramHash}`);
    } finally {
      await down(project);
    }
  }, 10 * MINUTE_MS);

  it('takes a 4th worker mid-run (`up -d --scale worker=4`) and ends bit-identical to the 3-worker run', async () => {
    const project = `nabla-e2e-${RUN_ID}-four`;
    const env = jobEnv(true);
    let follower: LogFollower | null = null;
    try {
      const startedMs = Date.now();
      const up = await composeRun(project, ['up', '-d', '--scale', 'worker=3'], env, 5 * MINUTE_MS);
      expect(up.code, tail(up.stdout + up.stderr)).toBe(0);
      const coordinatorId = (await composeRun(project, ['ps', '-q', 'coordinator'], env, MINUTE_MS)).stdout.trim();
      expect(coordinatorId).toMatch(/^[0-9a-f]{12,}$/);
      follower = new LogFollower(coordinatorId);
      const firstStep = await follower.waitFor('first step', (e) => e.event === 'step', 3 * MINUTE_MS);
      const timeToFirstStepMs = firstStep.atMs - startedMs;

      const scaleMs = Date.now();
      const scale = await composeRun(project, ['up', '-d', '--scale', 'worker=4'], env, 5 * MINUTE_MS);
      expect(scale.code, tail(scale.stdout + scale.stderr)).toBe(0);
      expect(scale.stdout + scale.stderr, 'the running coordinator is kept').not.toMatch(/Recreat\w* .*coordinator/);
      const joinedIds = new Set<unknown>();
      const fourth = await follower.waitFor('a 4th worker joining', (e) => {
        if (e.event === 'worker-joined') joinedIds.add(e.workerId);
        return joinedIds.size >= 4;
      }, 2 * MINUTE_MS);
      const contributing = await follower.waitFor('a step with 4 workers', (e) => e.event === 'step' && e.workers === 4, 2 * MINUTE_MS, fourth.index);
      const done = await follower.waitFor('done', (e) => e.event === 'done', 8 * MINUTE_MS);
      const exit = await run('docker', ['wait', coordinatorId], { timeoutMs: MINUTE_MS });
      expect(exit.stdout.trim(), 'the coordinator exit code').toBe('0');

      expect(fourth.workerId).toBe('w4');
      expect(fourth.sharedMemory, 'a worker scaled in later joins the same /dev/shm').toBe(true);
      expect(Number(contributing.step)).toBeLessThan(Number(done.steps));
      expect(done.workersSeen).toBe(4);
      expect(done.epochs).toBe(EPOCHS);
      expect(threeWorkerParamHash, 'the 3-worker run above must have passed').not.toBeNull();
      expect(done.paramHash, 'bit-identical to the 3-worker run').toBe(threeWorkerParamHash);
      // The new worker started from the parameters of a later step: it really joined mid-run.
      const workerLogs = await composeRun(project, ['logs', '--no-color', 'worker'], env, MINUTE_MS);
      expect(workerLogs.stdout).toMatch(/joined as w4: sizes \[784,30,10\], quadratic cost, float64, parameters v[1-9]\d*/);

      console.log(`docker e2e: up -d → first step in ${seconds(timeToFirstStepMs)}; ` +
        `up -d --scale worker=4 → worker w4 joined in ${seconds(fourth.atMs - scaleMs)}, ` +
        `first step with 4 workers (step ${contributing.step} of ${done.steps}) in ${seconds(contributing.atMs - scaleMs)}; ` +
        `final accuracy ${(Number(done.testAccuracy) * 100).toFixed(2)}%, params ${done.paramHash} (same as 3 workers)`);
    } finally {
      follower?.stop();
      await down(project);
    }
  }, 15 * MINUTE_MS);
});
