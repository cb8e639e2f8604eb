/**
 * Hostile peers against a live coordinator: while two honest workers train, raw WebSocket clients send one kind of
 * bad frame each. Every attacker must be refused (a `failure` naming the defect where the protocol replies, then a
 * close), the coordinator must keep running, and the job must end bit-identical to an undisturbed run.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { createLayout } from '../../shared/network/layout.js';
import { maxPayloadBytes } from '../../shared/protocol/codec.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { spawnCluster, type Cluster } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';

/** The wire format, configured as the protocol documents it, but built here: the attackers share no product code. */
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

const SIZES = [4, 6, 3];
const WEIGHT_COUNT = 4 * 6 + 6 * 3;
const BIAS_COUNT = 6 + 3;
/** 3000 rows × 120 epochs of batch 10 = 36000 steps: long enough to attack during it, even on a fast machine. */
const csv = writeBlobsCsv({ rows: 3000, features: 4, classes: 3, seed: 41 });
// 8 chunks (not auto's 2 for a batch of 10), so that misbehaving workers beside the honest ones are given shards.
const job = ['--data', `csv:${csv}`, '--sizes', SIZES.join(','), '--epochs', '120', '--batch', '10', '--chunks', '8', '--eta', '3', '--seed', '7', '--min-workers', '2'];
const STEPS = 120 * 300;

type Message = Record<string, unknown> & { type: string };

interface AttackOutcome {
  /** Every frame the coordinator sent, decoded. */
  received: Message[];
  failures: Message[];
  closeCode: number;
  closeReason: string;
  /** This client's port: the coordinator's `rejected` events name it. */
  localPort: number;
  socketErrors: string[];
}

interface Attacker {
  send(message: unknown): void;
  sendRaw(bytes: Buffer | string, binary: boolean): void;
  /** The first frame of this type the coordinator sent (waiting for it if needed). */
  next(type: string, timeoutMs?: number): Promise<Message>;
  /** Fails if the socket closes within `ms`: for frames the coordinator is expected to ignore. */
  staysOpenFor(ms: number): Promise<void>;
  close(): void;
}

/** Opens a raw client, runs `act`, and resolves once the connection has closed (from either side). */
function attack(url: string, act: (attacker: Attacker) => Promise<void> | void, timeoutMs = 15_000): Promise<AttackOutcome> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  const received: Message[] = [];
  const socketErrors: string[] = [];
  const wakers = new Set<() => void>();
  let localPort = 0;
  let closed: { code: number; reason: string } | null = null;
  socket.on('upgrade', (response) => { localPort = response.socket.localPort ?? 0; });
  socket.on('error', (error) => { socketErrors.push(error.message); });
  socket.on('message', (bytes: RawData, isBinary) => {
    received.push(isBinary ? (packr.unpack(bytes as Buffer) as Message) : { type: 'text', text: String(bytes) });
    for (const wake of wakers) wake();
  });
  const waitUntil = <T>(probe: () => T | undefined, ms: number, what: string): Promise<T> => new Promise((resolve, reject) => {
    const check = (): void => {
      const value = probe();
      if (value !== undefined) { done(); resolve(value); } else if (closed) { done(); reject(new Error(`closed (${closed.code} ${closed.reason}) before ${what}; got ${types()}`)); }
    };
    const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}; got ${types()}`)); }, ms);
    const done = (): void => { clearTimeout(timer); wakers.delete(check); };
    wakers.add(check);
    check();
  });
  const types = (): string => `[${received.map((m) => m.type).join(', ')}]`;
  const attacker: Attacker = {
    send: (message) => socket.send(packr.pack(message), { binary: true }),
    sendRaw: (bytes, binary) => socket.send(bytes, { binary }),
    next: (type, ms = 10_000) => waitUntil(() => received.find((m) => m.type === type), ms, `a "${type}" frame`),
    staysOpenFor: (ms) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => { wakers.delete(check); resolve(); }, ms);
      const check = (): void => {
        if (!closed) return;
        clearTimeout(timer);
        wakers.delete(check);
        reject(new Error(`the coordinator closed the connection (${closed.code} ${closed.reason}); got ${types()}`));
      };
      wakers.add(check);
    }),
    close: () => socket.close(1000, 'attacker leaves'),
  };
  return new Promise<AttackOutcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`attack did not end within ${timeoutMs} ms; received ${types()}`));
    }, timeoutMs);
    socket.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() };
      for (const wake of wakers) wake();
      clearTimeout(timer);
      resolve({ received, failures: received.filter((m) => m.type === 'failure'), closeCode: code, closeReason: closed.reason, localPort, socketErrors });
    });
    socket.once('open', () => {
      Promise.resolve(act(attacker)).catch((error: unknown) => {
        clearTimeout(timer);
        socket.terminate();
        reject(error);
      });
    });
  });
}

const hello = { type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'evil', kernel: 'js' };

/** A gradients frame shaped right for sizes [4,6,3] unless `block` or `fields` say otherwise. */
function gradients(fields: Record<string, unknown> = {}, block: Record<string, unknown> = {}) {
  return {
    type: 'gradients', v: PROTOCOL_VERSION, step: 0, shardId: 1, version: 0, computeMs: 1,
    blocks: [{ level: 0, index: 0, cost: 0.5, nablaW: new Float64Array(WEIGHT_COUNT).fill(0.01), nablaB: new Float64Array(BIAS_COUNT).fill(0.01), ...block }],
    ...fields,
  };
}

type ShardTag = { step: number; shardId: number; version: number };

/** Says hello, waits for the welcome and a first shard; returns the tag a result for it carries, and its chunks. */
async function joinAndTakeShard(attacker: Attacker): Promise<{ tag: ShardTag; chunkStart: number; chunkEnd: number }> {
  attacker.send(hello);
  await attacker.next('welcome');
  const shard = await attacker.next('shard');
  const number = (name: string): number => shard[name] as number;
  return { tag: { step: number('step'), shardId: number('shardId'), version: number('version') }, chunkStart: number('chunkStart'), chunkEnd: number('chunkEnd') };
}

interface Expectation {
  name: string;
  act: (attacker: Attacker) => Promise<void> | void;
  closeCode: number;
  /** The coordinator's `failure` reply, when the protocol gets to send one. */
  failure: { code: string; message: RegExp } | null;
  /** Text of the coordinator's `rejected` event for this connection. */
  rejected: RegExp;
}

const expectations: Expectation[] = [
  {
    name: 'garbage bytes',
    act: (a) => a.sendRaw(Buffer.from([0xc1, 0xde, 0xad, 0xbe, 0xef]), true),
    closeCode: 1002,
    failure: { code: 'malformed', message: /undecodable msgpack frame of 5 bytes|must be a msgpack map/ },
    rejected: /msgpack/,
  },
  {
    name: 'a text frame',
    act: (a) => a.sendRaw(JSON.stringify(hello), false),
    closeCode: 1002,
    failure: { code: 'malformed', message: /text frames are not part of the protocol/ },
    rejected: /text frames/,
  },
  {
    name: 'msgpack of a non-map',
    act: (a) => a.send([1, 2, 3]),
    closeCode: 1002,
    failure: { code: 'malformed', message: /must be a msgpack map, got array\(3\)/ },
    rejected: /msgpack map/,
  },
  {
    name: 'a map without type',
    act: (a) => a.send({ v: PROTOCOL_VERSION, role: 'worker', name: 'evil' }),
    closeCode: 1002,
    failure: { code: 'malformed', message: /no string "type"/ },
    rejected: /"type"/,
  },
  {
    name: 'a hello of protocol v99',
    act: (a) => a.send({ ...hello, v: 99 }),
    closeCode: 1002,
    failure: { code: 'version-mismatch', message: new RegExp(`v99[^]*v${PROTOCOL_VERSION}\\b|v${PROTOCOL_VERSION}\\b[^]*v99`) },
    rejected: /v99/,
  },
  {
    name: 'gradients before hello',
    act: (a) => a.send(gradients()),
    closeCode: 1008,
    failure: { code: 'unexpected', message: /first message must be "hello", got "gradients"/ },
    rejected: /hello/,
  },
  {
    name: 'a hello with an unknown role',
    act: (a) => a.send({ ...hello, role: 'admin' }),
    closeCode: 1008,
    failure: { code: 'bad-field', message: /role must be "worker" or "monitor", got "admin"/ },
    rejected: /role/,
  },
  {
    name: 'a hello without a name',
    act: (a) => a.send({ type: 'hello', v: PROTOCOL_VERSION, role: 'worker', kernel: 'js' }),
    closeCode: 1008,
    failure: { code: 'bad-field', message: /name must be a string/ },
    rejected: /name/,
  },
  {
    name: 'gradients with nablaW one value short',
    act: async (a) => { const s = await joinAndTakeShard(a); a.send(gradients(s.tag, { nablaW: new Float64Array(WEIGHT_COUNT - 1) })); },
    closeCode: 1008,
    failure: { code: 'bad-length', message: new RegExp(`nablaW has ${WEIGHT_COUNT - 1} values, expected ${WEIGHT_COUNT}`) },
    rejected: /worker w\d+ \(evil\): .*nablaW/,
  },
  {
    name: 'gradients with NaN in nablaW',
    act: async (a) => {
      const s = await joinAndTakeShard(a);
      const nablaW = new Float64Array(WEIGHT_COUNT).fill(0.01);
      nablaW[5] = Number.NaN;
      a.send(gradients(s.tag, { nablaW }));
    },
    closeCode: 1008,
    failure: { code: 'not-finite', message: /nablaW\[5\] is NaN/ },
    rejected: /NaN/,
  },
  {
    name: 'gradients whose blocks are not a list',
    act: async (a) => { const s = await joinAndTakeShard(a); a.send({ ...gradients(s.tag), blocks: { level: 0, index: 0 } }); },
    closeCode: 1008,
    failure: { code: 'bad-field', message: /blocks must be a list of 1 to 64 block sums, got object/ },
    rejected: /blocks/,
  },
  {
    name: 'gradients for a real shard with blocks that do not tile its chunks',
    act: async (a) => {
      const s = await joinAndTakeShard(a);
      // One block one level too high: it claims chunks the shard was not given.
      const level = Math.ceil(Math.log2(s.chunkEnd - s.chunkStart)) + 1;
      a.send(gradients(s.tag, { level, index: 0 }));
    },
    closeCode: 1008,
    failure: { code: 'bad-field', message: /shard \d+ \(chunks \d+\.\.\d+\) needs blocks \[[\d: ]+\], got \[\d+:0\]/ },
    rejected: /needs blocks/,
  },
  {
    name: 'a frame one byte over maxPayload',
    act: (a) => a.sendRaw(Buffer.alloc(maxPayloadBytes(createLayout(SIZES)) + 1), true),
    closeCode: 1009,
    failure: null, // ws closes the connection on the frame header, before any protocol code sees it
    rejected: /Max payload size exceeded/,
  },
];

describe('a coordinator under protocol abuse', () => {
  it('refuses every bad frame, keeps training, and ends bit-identical to an undisturbed run', async () => {
    const started = performance.now();
    const clusters: Cluster[] = [];
    try {
      const reference = await spawnCluster({ workers: 2, args: job });
      clusters.push(reference);
      const target = await spawnCluster({ workers: 2, args: job });
      clusters.push(target);
      await target.coordinator.waitFor((e) => e.event === 'step' && (e.step as number) >= 5);

      const outcomes: Array<[Expectation, AttackOutcome]> = [];
      for (const expectation of expectations) outcomes.push([expectation, await attack(target.url, expectation.act)]);

      // A result for a shard this worker was never given is dropped like a stale duplicate (exactly-once rule),
      // without a reply; the attacker then stops answering, and its shards must be computed by the honest workers.
      const forged = await attack(target.url, async (a) => {
        const s = await joinAndTakeShard(a);
        a.send(gradients({ ...s.tag, shardId: 2 ** 40 }));
        await a.staysOpenFor(500);
        a.close();
      });
      const attacksMs = performance.now() - started;

      // Every attack happened while the job was still training, and the coordinator survived all of them.
      expect(target.coordinator.events.some((e) => e.event === 'done'), 'training ended before the attacks did; make the job longer').toBe(false);
      expect(target.coordinator.child.exitCode).toBeNull();

      for (const [expectation, outcome] of outcomes) {
        const reply = outcome.failures.map((f) => `${String(f.code)}: ${String(f.message)}`).join('; ') || '(no failure frame)';
        console.log(`${expectation.name} → close ${outcome.closeCode}, ${reply}`);
        const label = `${expectation.name}: received ${JSON.stringify(outcome.failures)}, closed ${outcome.closeCode} ${outcome.closeReason}`;
        expect(outcome.closeCode, label).toBe(expectation.closeCode);
        if (expectation.failure) {
          expect(outcome.failures, label).toHaveLength(1);
          expect(outcome.failures[0].code, label).toBe(expectation.failure.code);
          expect(outcome.failures[0].message, label).toMatch(expectation.failure.message);
          expect(outcome.closeReason, label).toBe(expectation.failure.code);
        } else {
          expect(outcome.failures, label).toHaveLength(0);
        }
      }
      expect(forged.failures).toHaveLength(0);
      expect(forged.closeCode).toBe(1000);

      const [expected, done] = await Promise.all([
        reference.coordinator.waitFor((e) => e.event === 'done', 120_000),
        target.coordinator.waitFor((e) => e.event === 'done', 120_000),
      ]);
      expect((await target.coordinator.exited).code, target.coordinator.stderr()).toBe(0);
      for (const worker of target.workers) expect((await worker.exited).code, worker.stderr()).toBe(0);
      expect(done.steps).toBe(STEPS);
      expect(done.paramHash).toBe(expected.paramHash);
      const stepHashes = (events: Array<Record<string, unknown>>) => events.filter((e) => e.event === 'step').map((e) => e.paramHash);
      expect(stepHashes(target.coordinator.events)).toEqual(stepHashes(reference.coordinator.events));
      expect(done.droppedResults as number).toBeGreaterThanOrEqual(1); // the forged result
      expect(done.reissuedShards as number).toBeGreaterThanOrEqual(1); // shards of the evil workers, recomputed

      // One `rejected` event per refused connection, naming its address and the defect.
      const rejected = target.coordinator.events.filter((e) => e.event === 'rejected');
      for (const [expectation, outcome] of outcomes) {
        const mine = rejected.filter((e) => String(e.address).endsWith(`:${outcome.localPort}`));
        expect(mine.length, `${expectation.name}: rejected events ${JSON.stringify(rejected)}`).toBeGreaterThanOrEqual(1);
        expect(String(mine[0].reason), expectation.name).toMatch(expectation.rejected);
      }
      expect(rejected.some((e) => String(e.address).endsWith(`:${forged.localPort}`))).toBe(false);
      const evilJoined = target.coordinator.events.filter((e) => e.event === 'worker-joined' && e.name === 'evil');
      expect(evilJoined).toHaveLength(5);
      console.log(`${expectations.length + 1} attacks in ${(attacksMs / 1000).toFixed(1)} s; job done after ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `${rejected.length} rejected, ${String(done.reissuedShards)} shards reissued, ${String(done.droppedResults)} results dropped, paramHash ${String(done.paramHash)}`);
    } finally {
      await Promise.all(clusters.map((cluster) => cluster.stop()));
    }
  }, 120_000);
});
