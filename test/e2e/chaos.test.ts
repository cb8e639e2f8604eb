import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../shared/rng.js';
import { runNabla, startNabla, type RunningProcess } from '../support/cluster.js';
import { freePort } from '../support/free-port.js';

/**
 * Exactness under failure: workers SIGKILLed mid-step and restarted, the coordinator SIGKILLed and restarted with
 * --resume, and the parameters after every step must still be bit-identical to an undisturbed run whose workers are
 * sent the parameters every step. With `--fan-out all` every step is split over all workers; with `1` one worker
 * computes each step, applies the update itself and runs ahead, and in float32 needs the float64 master on rejoining.
 */
const base = ['--data', 'mnist', '--sizes', '784,30,10', '--epochs', '2', '--batch', '100', '--eta', '3', '--kernel', 'js', '--seed', '9'];
/** The kills each case goes through: workers SIGKILLed (and restarted), then coordinators restarted with --resume. */
const WORKER_KILLS = 14;
const COORDINATOR_RESTARTS = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a stalled run looked like: the coordinator's last events and the tail of every process's stderr. */
function describeStall(coordinator: RunningProcess, workers: readonly RunningProcess[]): string {
  const tail = (text: string) => text.trim().split('\n').slice(-8).join('\n    ');
  const lastEvents = coordinator.events.slice(-12).map((e) => JSON.stringify(e).slice(0, 300)).join('\n    ');
  return `the coordinator's last events:\n    ${lastEvents}\n  its stderr:\n    ${tail(coordinator.stderr())}\n` +
    workers.map((w, i) => `  worker ${i + 1}'s stderr:\n    ${tail(w.stderr())}`).join('\n');
}

const stepHashes = (events: Array<Record<string, unknown>>) =>
  new Map(events.filter((e) => e.event === 'step').map((e) => [e.step as number, e.paramHash as string]));

describe('chaos', () => {
  it.each([
    ['all', 'float64'],
    ['1', 'float32'],
  ])('--fan-out %s, %s: keeps every step bit-identical through 10+ worker kills and 2 coordinator restarts', async (fanOut, dtype) => {
    const job = [...base, '--fan-out', fanOut, '--dtype', dtype];
    // Split over 2 workers: no worker computes a whole step, so every replica is sent the coordinator's parameters.
    const reference = await runNabla(['train', ...base, '--dtype', dtype, '--workers', '2', '--fan-out', 'all', '--json'], { timeoutMs: 120_000 });
    expect(reference.code, reference.stderr).toBe(0);
    const expected = stepHashes(reference.events);
    const finalHash = reference.events.find((e) => e.event === 'done')?.paramHash;

    const dir = mkdtempSync(join(tmpdir(), 'nabla-chaos-'));
    const checkpoints = join(dir, 'checkpoints');
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const rng = new Rng(2026);
    const startCoordinator = (resume: boolean): RunningProcess => startNabla([
      'coordinator', '--listen', `127.0.0.1:${port}`, '--json', ...job, '--checkpoint-dir', checkpoints,
      '--checkpoint-every', '5', '--heartbeat-timeout', '5', ...(resume ? ['--resume'] : []),
    ]);
    const startWorker = (): RunningProcess => startNabla(['worker', '--connect', url, '--kernel', 'js', '--give-up-after', '60']);

    const coordinators: RunningProcess[] = [startCoordinator(false)];
    await coordinators[0].waitFor((e) => e.event === 'listening');
    const workers: RunningProcess[] = [startWorker(), startWorker(), startWorker()];
    const everything = () => [...coordinators, ...workers];
    let workerKills = 0;
    let coordinatorKills = 0;
    try {
      // Let training get going, then kill at random moments until every kill is done (should the job end first, the
      // test fails below, short of kills); then wait for the end, which may take a while on a loaded machine.
      await coordinators[0].waitFor((e) => e.event === 'step' && (e.step as number) >= 3);
      for (let round = 0; ; round++) {
        const current = coordinators[coordinators.length - 1];
        if (current.events.some((e) => e.event === 'done')) break;
        if (coordinatorKills === COORDINATOR_RESTARTS && workerKills >= WORKER_KILLS) break;
        if (round > 400) throw new Error(`the kills did not happen within 400 rounds; ${describeStall(current, workers)}`);
        await sleep(60 + rng.nextInt(150));
        if (current.events.some((e) => e.event === 'done')) break;
        const stepsSoFar = current.events.filter((e) => e.event === 'step').length;
        if (coordinatorKills < COORDINATOR_RESTARTS && workerKills >= 4 * (coordinatorKills + 1) && stepsSoFar > 8) {
          current.kill('SIGKILL');
          await current.exited;
          coordinatorKills++;
          const restarted = startCoordinator(true);
          coordinators.push(restarted);
          await restarted.waitFor((e) => e.event === 'listening');
        } else if (workerKills < WORKER_KILLS) {
          const victim = rng.nextInt(workers.length);
          workers[victim].kill('SIGKILL');
          await workers[victim].exited;
          workerKills++;
          workers[victim] = startWorker();
        }
      }
      const last = coordinators[coordinators.length - 1];
      const done = await last.waitFor((e) => e.event === 'done', 120_000).catch((error: Error) => {
        throw new Error(`the job did not finish after the kills (${error.message.split('\n')[0]}); ${describeStall(last, workers)}`);
      });
      expect((await last.exited).code).toBe(0);

      expect(workerKills).toBeGreaterThanOrEqual(10);
      expect(coordinatorKills).toBe(2);
      expect(done.paramHash).toBe(finalHash);
      // Every step any coordinator applied has the reference's parameters after it: none lost, none applied twice.
      let checked = 0;
      for (const coordinator of coordinators) {
        for (const [step, hash] of stepHashes(coordinator.events)) {
          expect(hash, `step ${step}`).toBe(expected.get(step));
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(expected.size);
      const resumed = coordinators.slice(1).map((c) => c.events.find((e) => e.event === 'resumed'));
      expect(resumed.every((e) => e !== undefined)).toBe(true);
      console.log(`chaos (--fan-out ${fanOut}, ${dtype}): ${workerKills} worker kills, ${coordinatorKills} coordinator restarts, ${checked} step hashes checked, final ${done.paramHash}`);
    } finally {
      for (const proc of everything()) proc.kill('SIGKILL');
      await Promise.all(everything().map((proc) => proc.exited));
    }
  }, 240_000);

  it('falls back to the previous checkpoint when the newest is corrupted, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-ckpt-'));
    const small = ['--data', 'mnist', '--sizes', '784,10,10', '--epochs', '1', '--batch', '500', '--json', '--checkpoint-dir', dir, '--checkpoint-every', '4'];
    const full = await runNabla(['train', ...small, '--workers', '1']);
    expect(full.code, full.stderr).toBe(0);
    const names = readdirSync(dir).sort();
    expect(names.length).toBe(3);
    writeFileSync(join(dir, names[names.length - 1]), '{"sha256":"00","body":"{}"}');
    const resumed = await runNabla(['train', ...small, '--workers', '1', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const warning = resumed.events.find((e) => e.event === 'warning');
    expect(warning?.message).toContain('checksum mismatch');
    expect(resumed.events.find((e) => e.event === 'resumed')?.path).toBe(join(dir, names[names.length - 2]));
    expect(resumed.events.find((e) => e.event === 'done')?.paramHash).toBe(full.events.find((e) => e.event === 'done')?.paramHash);
  });

  it('resumes under --chunks auto with the chunks the checkpoint was written with, and refuses another explicit --chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-ckpt-'));
    // Batch 10: auto would cut 2 chunks; the checkpoints are written with 8 (as the default was before auto).
    const job = ['--data', 'mnist', '--sizes', '784,10,10', '--batch', '10', '--json', '--check-every', '0', '--workers', '1'];
    const [uninterrupted, firstEpoch] = await Promise.all([
      runNabla(['train', ...job, '--epochs', '2', '--chunks', '8']),
      runNabla(['train', ...job, '--epochs', '1', '--chunks', '8', '--checkpoint-dir', dir]),
    ]);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    expect(firstEpoch.code, firstEpoch.stderr).toBe(0);
    const refused = await runNabla(['train', ...job, '--epochs', '2', '--chunks', '2', '--checkpoint-dir', dir, '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('maxChunks: checkpoint has 8, this run has 2');
    const resumed = await runNabla(['train', ...job, '--epochs', '2', '--checkpoint-dir', dir, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.events.find((e) => e.event === 'start')?.chunks).toBe(8);
    expect(resumed.events.find((e) => e.event === 'resumed')?.step).toBe(800);
    expect(resumed.events.find((e) => e.event === 'done')?.paramHash).toBe(uninterrupted.events.find((e) => e.event === 'done')?.paramHash);
  });
});
