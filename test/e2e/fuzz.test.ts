/**
 * Property-based fuzzing of a live coordinator: while two honest workers train, over ten thousand generated frames
 * (random bytes, damaged and mutated messages, huge length headers, text and oversized frames; see
 * test/support/fuzz-frames.ts) each arrive on their own connection, as its first frame or right after a valid hello.
 * An independent model of the protocol says how the coordinator must answer each; the coordinator must never crash,
 * and the job must end bit-identical to an undisturbed run.
 *
 * Reproduce a run with FUZZ_SEED=<seed printed below> npx vitest run test/e2e/fuzz.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { createLayout } from '../../shared/network/layout.js';
import { maxPayloadBytes } from '../../shared/protocol/codec.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { runNabla, spawnCluster, type Cluster } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';
import {
  describeFrame, forgedFrame, fuzzFrame, isKnownCode, packr, sizeLimitFrames, verdictOf, type FuzzFrame, type JobShape, type Verdict,
} from '../support/fuzz-frames.js';

const SIZES = [4, 6, 3];
const SHAPE: JobShape = { weightCount: 4 * 6 + 6 * 3, biasCount: 6 + 3 };
const MAX_PAYLOAD = maxPayloadBytes(createLayout(SIZES));
/** Frames in flight at once, each on its own connection; one fast-check run sends one batch. */
const BATCH = 32;
const RUNS = 320; // × 32 = 10,240 frames, plus the six at the size limit
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** 3000 rows × 100 epochs of batch 10 = 30,000 steps: ~4 s undisturbed; the fuzzing slows it several-fold, so it is still training when that ends. */
const EPOCHS = 100;
const csv = writeBlobsCsv({ rows: 3000, features: 4, classes: 3, seed: 41 });
// 8 chunks (not auto's 2 for a batch of 10): up to 8 connections share each step, so forged results find real shards.
const job = ['--data', `csv:${csv}`, '--sizes', SIZES.join(','), '--epochs', String(EPOCHS), '--batch', '10', '--chunks', '8', '--eta', '3', '--seed', '7', '--check-every', '0', '--fan-out', 'all'];

const HELLO = packr.pack({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'fuzz', kernel: 'js' });

type Message = Record<string, unknown>;

/** What one connection saw. */
interface Outcome {
  failures: Message[];
  /** Types of every frame the coordinator sent. */
  received: string[];
  closeCode: number;
  closeReason: string;
  timedOut: boolean;
  framesSent: number;
}

/**
 * Opens a connection, sends `frame` (after a hello when its context says so, and once a shard arrives for a forged
 * result), then a probe no coordinator accepts, and resolves when the connection closes. Frames are handled in
 * order, so the first failure names the first frame refused: if it names the probe, `frame` was accepted.
 */
function play(url: string, frame: FuzzFrame, probe: Uint8Array, timeoutMs = 20_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const outcome: Outcome = { failures: [], received: [], closeCode: 0, closeReason: '', timedOut: false, framesSent: 0 };
    const send = (payload: Uint8Array, isBinary: boolean): void => { outcome.framesSent++; socket.send(payload, { binary: isBinary }); };
    const sendFrame = (payload: Uint8Array): void => {
      send(payload, frame.isBinary);
      if (payload.length <= MAX_PAYLOAD) send(probe, true);
    };
    const timer = setTimeout(() => { outcome.timedOut = true; socket.terminate(); }, timeoutMs);
    socket.on('error', () => undefined); // e.g. EPIPE while an oversized frame is still being written; the close says the rest
    socket.on('open', () => {
      if (frame.context === 'greeted') send(HELLO, true);
      if (!frame.forgery) sendFrame(frame.payload);
    });
    socket.on('message', (data: RawData, isBinary) => {
      let message: Message;
      try {
        message = isBinary ? (packr.unpack(data as Buffer) as Message) : { type: 'text' };
      } catch {
        message = { type: 'undecodable' };
      }
      outcome.received.push(String(message.type));
      if (message.type === 'failure') outcome.failures.push(message);
      if (message.type === 'shard' && frame.forgery && outcome.received.filter((type) => type === 'shard').length === 1) {
        sendFrame(forgedFrame(frame.forgery, { step: message.step as number, shardId: message.shardId as number, version: message.version as number }));
      }
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ ...outcome, closeCode: code, closeReason: reason.toString() });
    });
  });
}

const closeCodeFor = (code: unknown): number => (code === 'malformed' || code === 'version-mismatch' ? 1002 : 1008);
const clip = (text: string, length = 300): string => (text.length > length ? `${text.slice(0, length)}…` : text);

/** What is wrong with how the coordinator answered, or null when it answered as the model says. */
function judge(verdict: Verdict, outcome: Outcome, probeType: string): string | null {
  if (outcome.timedOut) return 'the connection was still open after 20 s';
  const failures = outcome.failures;
  const replied = failures.map((f) => `${String(f.code)}: ${clip(String(f.message))}`).join(' | ') || 'no failure';
  const closed = `close ${outcome.closeCode} "${outcome.closeReason}"`;
  switch (verdict.kind) {
    case 'refused': {
      if (failures.length !== 1) return `expected one failure, got ${replied}; ${closed}`;
      const { code, message } = failures[0];
      if (!isKnownCode(code)) return `unknown failure code ${String(code)}`;
      if (typeof message !== 'string' || message.length === 0) return `failure ${String(code)} without a message`;
      if (!verdict.defects.some((d) => d.code === code && message.includes(d.mention))) {
        return `${replied} names none of ${clip(JSON.stringify(verdict.defects), 600)}`;
      }
      if (outcome.closeCode !== closeCodeFor(code) || outcome.closeReason !== code) return `${replied}, then ${closed}; expected close ${closeCodeFor(code)} "${String(code)}"`;
      return null;
    }
    case 'accepted': {
      const probeRefused = failures.length === 1 && failures[0].code === 'unexpected' && String(failures[0].message).includes(`"${probeType}"`);
      return probeRefused && outcome.closeCode === 1008 ? null : `expected the frame to be accepted (and only the probe refused), got ${replied}; ${closed}`;
    }
    case 'closes-normally':
      return failures.length === 0 && outcome.closeCode === 1000 ? null : `expected a normal close after the worker's failure report, got ${replied}; ${closed}`;
    case 'too-big':
      return failures.length === 0 && outcome.closeCode === 1009 ? null : `expected close 1009 without a reply, got ${replied}; ${closed}`;
    case 'bad-utf8':
      return failures.length === 0 && outcome.closeCode === 1007 ? null : `expected close 1007 without a reply, got ${replied}; ${closed}`;
  }
}

/** Counts by key, printed sorted. */
class Tally {
  private readonly counts = new Map<string, number>();
  add(key: string | number): void { this.counts.set(String(key), (this.counts.get(String(key)) ?? 0) + 1); }
  toString(): string { return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join(', '); }
}

const totals = {
  frames: 0, framesSent: 0, connections: 0, refusedConnections: 0,
  families: new Tally(), verdicts: new Tally(), closes: new Tally(), failureCodes: new Tally(), acceptedBy: new Tally(),
};

/** Plays a batch of frames concurrently, one connection each, and checks every answer against the model. */
async function attack(target: Cluster, frames: FuzzFrame[]): Promise<void> {
  const outcomes = await Promise.all(frames.map((frame) => {
    const probeType = `probe#${++totals.connections}`;
    return play(target.url, frame, packr.pack({ type: probeType, v: PROTOCOL_VERSION })).then((outcome) => ({ frame, probeType, outcome }));
  }));
  const problems: string[] = [];
  for (const { frame, probeType, outcome } of outcomes) {
    const verdict = verdictOf(frame, SHAPE, MAX_PAYLOAD);
    totals.frames++;
    totals.framesSent += outcome.framesSent;
    totals.families.add(frame.family);
    totals.verdicts.add(verdict.kind);
    totals.closes.add(outcome.closeCode);
    if (verdict.kind === 'refused') totals.refusedConnections++;
    if (verdict.kind === 'refused' && outcome.failures[0]) totals.failureCodes.add(String(outcome.failures[0].code));
    if (verdict.kind === 'accepted' || verdict.kind === 'closes-normally') totals.acceptedBy.add(frame.family);
    const problem = judge(verdict, outcome, probeType);
    if (problem) problems.push(`${describeFrame(frame)}\n    → ${problem}`);
  }
  expect(target.coordinator.child.exitCode, `the coordinator exited; stderr:\n${target.coordinator.stderr()}`).toBeNull();
  expect(problems, problems.join('\n')).toEqual([]);
}

describe('a coordinator under fuzzing', () => {
  it('answers 10,000 generated frames as the protocol says, never crashes, and trains bit-identically', async () => {
    const started = performance.now();
    const reference = await runNabla(['train', ...job, '--workers', '1', '--json']);
    expect(reference.code, reference.stderr).toBe(0);
    const expected = reference.events.find((e) => e.event === 'done') as Message;
    const referenceMs = performance.now() - started;

    const target = await spawnCluster({ workers: 2, args: [...job, '--min-workers', '2'] });
    try {
      await target.coordinator.waitFor((e) => e.event === 'step' && (e.step as number) >= 5);
      const fuzzStarted = performance.now();
      console.log(`fuzz seed ${SEED}; max payload ${MAX_PAYLOAD} bytes for sizes [${SIZES.join(',')}]`);

      await fc.assert(fc.asyncProperty(sizeLimitFrames(MAX_PAYLOAD), (frames) => attack(target, frames)), { numRuns: 1, seed: SEED, endOnFailure: true });
      await fc.assert(
        fc.asyncProperty(fc.array(fuzzFrame(SHAPE), { minLength: BATCH, maxLength: BATCH }), (frames) => attack(target, frames)),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      const fuzzMs = performance.now() - fuzzStarted;

      // Every frame arrived while the job was still training, and the coordinator survived all of them.
      const stepsBeforeDone = target.coordinator.events.filter((e) => e.event === 'step').length;
      expect(target.coordinator.events.some((e) => e.event === 'done'), 'training ended before the fuzzing did; make the job longer').toBe(false);
      expect(target.coordinator.child.exitCode).toBeNull();
      const rejected = target.coordinator.events.filter((e) => e.event === 'rejected').length;

      const done = await target.coordinator.waitFor((e) => e.event === 'done', 120_000);
      expect((await target.coordinator.exited).code, target.coordinator.stderr()).toBe(0);
      for (const worker of target.workers) expect((await worker.exited).code, worker.stderr()).toBe(0);
      expect(done.steps).toBe(expected.steps);
      expect(done.paramHash).toBe(expected.paramHash);
      const stepHashes = (events: Message[]) => events.filter((e) => e.event === 'step').map((e) => e.paramHash);
      expect(stepHashes(target.coordinator.events)).toEqual(stepHashes(reference.events));

      console.log([
        `${totals.frames} frames tried (${totals.framesSent} sent, with hellos and probes) over ${totals.connections} connections in ${(fuzzMs / 1000).toFixed(1)} s`,
        `families: ${totals.families}`,
        `model verdicts: ${totals.verdicts}`,
        `accepted as valid and harmless: ${totals.acceptedBy}`,
        `closes by code: ${totals.closes}`,
        `failure codes of refused frames: ${totals.failureCodes}`,
        `coordinator: crashes: 0, exit code 0; training at step ${stepsBeforeDone} of ${String(done.steps)} when fuzzing ended; ` +
          `${rejected} rejected events for ${totals.refusedConnections} refused connections`,
        `job: ${String(done.reissuedShards)} shards reissued, ${String(done.droppedResults)} results dropped, paramHash ${String(done.paramHash)} = undisturbed run's`,
        `time: reference run ${(referenceMs / 1000).toFixed(1)} s, whole test ${((performance.now() - started) / 1000).toFixed(1)} s`,
      ].join('\n'));
    } finally {
      await target.stop();
    }
  }, 180_000);
});
