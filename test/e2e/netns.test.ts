import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runNabla, startNabla, type RunningProcess } from '../support/cluster.js';

/**
 * Workers on other machines, honestly: the coordinator and three workers each live in their own Linux network
 * namespace, joined by veth pairs, so every byte between them crosses a (virtual) link the test can cut.
 *
 *   coordinator ns: lo 10.77.0.1/32 (the listen address)
 *                   c1 10.77.1.1/30 ── eth0 10.77.1.2/30  worker ns 1 (one route: 10.77.0.1 via 10.77.1.1)
 *                   c2 10.77.2.1/30 ── eth0 10.77.2.2/30  worker ns 2
 *                   c3 10.77.3.1/30 ── eth0 10.77.3.2/30  worker ns 3
 *
 * One routed /30 per worker rather than a bridge: no bridge module or br_netfilter involved. No namespace has
 * any other route or address (besides its own 127.0.0.1), so traffic can only go between them. Needs root and
 * iproute2 (`ip`); scripts/netns/cleanup.sh removes namespaces left by a run that was killed before afterAll.
 */

const WORKERS = 3;
const HEARTBEAT_TIMEOUT_S = 2;
/** The cut happens once the coordinator reports this step (of 320): well inside the run, past the warm-up. */
const CUT_AFTER_STEP = 60;
const job = [
  '--data', 'mnist', '--sizes', '784,30,10', '--epochs', '2', '--batch', '50', '--eta', '3', '--seed', '7',
  '--kernel', 'js', '--check-every', '0', '--fan-out', 'all',
];
const COORDINATOR_IP = '10.77.0.1';
const workerIp = (i: number) => `10.77.${i}.2`;
const gatewayIp = (i: number) => `10.77.${i}.1`;

/** Unique per run (pid + random), short enough for any name limit; scripts/netns/cleanup.sh knows the pattern. */
const PREFIX = `nabla-e2e-${process.pid}-${randomBytes(3).toString('hex')}`;
const coordinatorNs = `${PREFIX}-c`;
const workerNs = (i: number) => `${PREFIX}-w${i}`;
const TOKEN = randomBytes(16).toString('hex');

const skipReason = whyThisCannotRun();
if (skipReason !== null) console.warn(`netns.test.ts skipped: ${skipReason}`);

/** Null when we can create namespaces here; otherwise why not (the suite is then skipped, saying so). */
function whyThisCannotRun(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return `needs root to create network namespaces (running as uid ${process.getuid?.()}); CI runs it as root`;
  const version = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (version.error) return `needs the "ip" command from iproute2 (${version.error.message}); apt-get install iproute2`;
  const probe = `${PREFIX}-probe`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace (missing CAP_SYS_ADMIN?): ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

/** Runs `ip ARGS…`; throws with the command and its stderr when it fails. */
function ip(...args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    throw new Error(`ip ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`);
  }
}

const namespacesCreated: string[] = [];

function addNamespace(name: string): void {
  ip('netns', 'add', name);
  namespacesCreated.push(name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
}

/** The topology drawn at the top of this file. */
function buildTestbed(): void {
  addNamespace(coordinatorNs);
  ip('-n', coordinatorNs, 'addr', 'add', `${COORDINATOR_IP}/32`, 'dev', 'lo');
  for (let i = 1; i <= WORKERS; i++) {
    addNamespace(workerNs(i));
    // Created inside the namespaces (never in ours), so names cannot clash with the host or a parallel run.
    ip('-n', coordinatorNs, 'link', 'add', `c${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', workerNs(i));
    ip('-n', coordinatorNs, 'addr', 'add', `${gatewayIp(i)}/30`, 'dev', `c${i}`);
    ip('-n', coordinatorNs, 'link', 'set', `c${i}`, 'up');
    ip('-n', workerNs(i), 'addr', 'add', `${workerIp(i)}/30`, 'dev', 'eth0');
    ip('-n', workerNs(i), 'link', 'set', 'eth0', 'up');
    ip('-n', workerNs(i), 'route', 'add', `${COORDINATOR_IP}/32`, 'via', gatewayIp(i));
  }
}

/** Deletes every namespace this run created (their veths go with them); never throws, reports what is left. */
function tearDownTestbed(): string[] {
  const problems: string[] = [];
  for (const name of namespacesCreated.splice(0).reverse()) {
    const result = spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8' });
    if (result.status !== 0) problems.push(`ip netns del ${name}: ${result.stderr.trim()}`);
  }
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of left.split('\n')) if (line.startsWith(PREFIX)) problems.push(`namespace still listed: ${line}`);
  return problems;
}

type NsProcess = RunningProcess;

const running = new Set<NsProcess>();

/** `ip netns exec NS node dist/bin/nabla.js ARGS…` (ip execs node in place, so the child's pid is node's). */
function startInNamespace(ns: string, args: string[]): NsProcess {
  const proc = startNabla(args, { prefix: ['ip', 'netns', 'exec', ns] });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** SIGKILLs every process this file started and waits for them (before namespaces are deleted). */
async function killEverything(): Promise<void> {
  const procs = [...running];
  for (const proc of procs) if (proc.isRunning()) proc.child.kill('SIGKILL');
  await Promise.all(procs.map((proc) => proc.exited));
}

interface NsCluster {
  coordinator: NsProcess;
  workers: NsProcess[];
  /** workerId the coordinator gave each worker, by worker number 1..3. */
  workerIds: Map<number, string>;
}

/** A coordinator in its namespace listening on 10.77.0.1, and one worker in each worker namespace. */
async function startNsCluster(): Promise<NsCluster> {
  const coordinator = startInNamespace(coordinatorNs, [
    'coordinator', '--listen', `${COORDINATOR_IP}:0`, '--token', TOKEN, '--json', ...job,
    '--min-workers', String(WORKERS), '--heartbeat-timeout', String(HEARTBEAT_TIMEOUT_S),
  ]);
  const listening = await coordinator.waitFor((e) => e.event === 'listening');
  expect(listening.host).toBe(COORDINATOR_IP);
  const url = `ws://${COORDINATOR_IP}:${listening.port as number}`;
  const workers: NsProcess[] = [];
  for (let i = 1; i <= WORKERS; i++) {
    workers.push(startInNamespace(workerNs(i), [
      'worker', '--connect', url, '--token', TOKEN, '--name', `netns-w${i}`, '--kernel', 'js', '--give-up-after', '20',
    ]));
  }
  const workerIds = new Map<number, string>();
  for (let i = 1; i <= WORKERS; i++) {
    const joined = await coordinator.waitFor((e) => e.event === 'worker-joined' && e.name === `netns-w${i}`);
    // The coordinator saw the worker's own namespace address: the bytes crossed that worker's veth link.
    expect(String(joined.address)).toMatch(new RegExp(`^${workerIp(i).replaceAll('.', '\\.')}:\\d+$`));
    workerIds.set(i, joined.workerId as string);
  }
  return { coordinator, workers, workerIds };
}

const stepEvents = (proc: NsProcess) =>
  proc.events.flatMap((event, index) => (event.event === 'step' ? [{ event, atMs: proc.arrivalMs[index] }] : []));

/** Every step 1..N exactly once, each with the reference's parameter hash; returns how many were missing. */
function expectEveryStepOnceAsReference(proc: NsProcess, reference: Map<number, string>): number {
  const seen = new Map<number, number>();
  for (const { event } of stepEvents(proc)) {
    const step = event.step as number;
    seen.set(step, (seen.get(step) ?? 0) + 1);
    expect(event.paramHash, `parameters after step ${step}`).toBe(reference.get(step));
  }
  const lost = [...reference.keys()].filter((step) => !seen.has(step));
  const repeated = [...seen].filter(([, count]) => count > 1).map(([step]) => step);
  expect(lost, 'steps never reported').toEqual([]);
  expect(repeated, 'steps reported twice').toEqual([]);
  expect(seen.size).toBe(reference.size);
  return lost.length;
}

/** The longest silence between consecutive step events, and the step that ended it. */
function longestStepGap(proc: NsProcess): { gapMs: number; beforeStep: number } {
  const steps = stepEvents(proc);
  let longest = { gapMs: 0, beforeStep: 0 };
  for (let k = 1; k < steps.length; k++) {
    const gapMs = steps[k].atMs - steps[k - 1].atMs;
    if (gapMs > longest.gapMs) longest = { gapMs, beforeStep: steps[k].event.step as number };
  }
  return longest;
}

describe.skipIf(skipReason !== null)(`workers in other network namespaces${skipReason === null ? '' : ` (skipped: ${skipReason})`}`, () => {
  let referenceHashes = new Map<number, string>();
  let referenceFinalHash = '';

  beforeAll(async () => {
    buildTestbed();
    // The same job on plain loopback, outside the namespaces: the bits every namespaced run must reproduce.
    const reference = await runNabla(['train', ...job, '--workers', '1', '--json'], { timeoutMs: 40_000 });
    expect(reference.code, reference.stderr).toBe(0);
    referenceHashes = new Map(reference.events.filter((e) => e.event === 'step').map((e) => [e.step as number, e.paramHash as string]));
    referenceFinalHash = reference.events.find((e) => e.event === 'done')?.paramHash as string;
    expect(referenceHashes.size).toBeGreaterThan(CUT_AFTER_STEP * 3);
  });

  afterEach(killEverything);

  afterAll(async () => {
    await killEverything();
    const problems = tearDownTestbed();
    expect(problems, 'namespaces left behind').toEqual([]);
  });

  it('trains over the veth links with 3 workers to the parameters of a loopback run', async () => {
    const startedMs = performance.now();
    const { coordinator, workers } = await startNsCluster();
    const done = await coordinator.waitFor((e) => e.event === 'done');
    expect(done.paramHash).toBe(referenceFinalHash);
    expect(done.workersSeen).toBe(WORKERS);
    expect(coordinator.events.filter((e) => e.event === 'worker-left')).toEqual([]);
    const lost = expectEveryStepOnceAsReference(coordinator, referenceHashes);
    expect((await coordinator.exited).code, coordinator.stderr()).toBe(0);
    for (const worker of workers) expect((await worker.exited).code, worker.stderr()).toBe(0);
    console.log(JSON.stringify({
      netnsRun: 'undisturbed', steps: referenceHashes.size, lostSteps: lost, paramHash: done.paramHash,
      seconds: done.seconds, wallSeconds: (performance.now() - startedMs) / 1000, reissuedShards: done.reissuedShards,
      droppedResults: done.droppedResults, longestStepGapMs: Math.round(longestStepGap(coordinator).gapMs),
    }));
  });

  it('loses no step and changes no bit when one worker\'s link is cut mid-run', async () => {
    const startedMs = performance.now();
    const { coordinator, workers, workerIds } = await startNsCluster();
    const cutWorker = 2;
    const cutWorkerId = workerIds.get(cutWorker)!;
    await coordinator.waitFor((e) => e.event === 'step' && (e.step as number) >= CUT_AFTER_STEP);
    // Pull the cable on the coordinator's side: frames on c2 are dropped from now on, no FIN or RST gets through.
    await promisify(execFile)('ip', ['-n', coordinatorNs, 'link', 'set', `c${cutWorker}`, 'down']);
    const cutAtMs = performance.now();
    const stepsAtCut = coordinator.events.filter((e) => e.event === 'step').length;

    const done = await coordinator.waitFor((e) => e.event === 'done');
    const leftIndex = coordinator.events.findIndex((e) => e.event === 'worker-left');
    const left = coordinator.events.filter((e) => e.event === 'worker-left');
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ workerId: cutWorkerId, workers: WORKERS - 1 });
    expect(String(left[0].reason)).toContain('heartbeat');
    // The cut really was mid-run: steps were still being applied after the coordinator gave up on the worker.
    const stepsAfterLeft = coordinator.events.slice(leftIndex).filter((e) => e.event === 'step').length;
    expect(stepsAtCut).toBeLessThan(referenceHashes.size);
    expect(stepsAfterLeft).toBeGreaterThan(0);

    expect(done.paramHash).toBe(referenceFinalHash);
    expect(done.reissuedShards as number).toBeGreaterThanOrEqual(1);
    const lost = expectEveryStepOnceAsReference(coordinator, referenceHashes);
    const stall = longestStepGap(coordinator);
    // The stall is the heartbeat timeout plus at most one heartbeat check (timeout / 4) plus the re-issued work.
    expect(stall.gapMs).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_S * 1000 * 0.9);
    expect(stall.gapMs).toBeLessThan(HEARTBEAT_TIMEOUT_S * 1000 * 3);
    expect((await coordinator.exited).code, coordinator.stderr()).toBe(0);
    for (const i of [1, 3]) expect((await workers[i - 1].exited).code, workers[i - 1].stderr()).toBe(0);

    console.log(JSON.stringify({
      netnsRun: 'link cut', cutLink: `c${cutWorker}`, cutAfterStep: stepsAtCut, steps: referenceHashes.size, lostSteps: lost,
      paramHash: done.paramHash, reissuedShards: done.reissuedShards, droppedResults: done.droppedResults,
      detectedAfterMs: Math.round(coordinator.arrivalMs[leftIndex] - cutAtMs), reason: left[0].reason,
      longestStepGapMs: Math.round(stall.gapMs), stallEndedAtStep: stall.beforeStep, stepsAfterWorkerLeft: stepsAfterLeft,
      seconds: done.seconds, wallSeconds: (performance.now() - startedMs) / 1000,
      cutWorkerStillRunningAtDone: workers[cutWorker - 1].isRunning(),
    }));
  });
});
