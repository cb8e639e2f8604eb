import { hostname } from 'node:os';
import type { RawData, WebSocket } from 'ws';
import type { Gemm } from '../shared/kernel/gemm.js';
import { describeCompute } from '../shared/kernel/select.js';
import { roundingFingerprint } from '../shared/kernel/rounding-probe.js';
import { shapeOf } from '../shared/network/layout.js';
import { decodeToWorker, encode, encodeTransient, encodeVia } from '../shared/protocol/codec.js';
import { ShmReader, ShmWriter } from '../shared/protocol/shm.js';
import { ProtocolError } from '../shared/protocol/errors.js';
import {
  assertNever, CloseCode, PROTOCOL_VERSION, RESULTS_AHEAD, type BlockSum, type Gradients, type ParamsUpdate, type PrefetchedSamples, type SelfUpdate, type Shard, type ToWorker,
} from '../shared/protocol/messages.js';
import { Replica } from './replica.js';
import { endBy, onUpgradeRefused, openSocket, UpgradeRefused, type CoordinatorEnd } from '../shared/connect.js';

export interface WorkerOptions {
  url: string;
  token: string | null;
  ca: string | null;
  insecureSkipVerify: boolean;
  name: string;
  gemm: Gemm;
  /** Offer coordinators on this host a shared-memory lane for parameters and gradients (shared/protocol/shm.ts). */
  shm: boolean;
  /** First retry delay; doubles up to maxRetryMs while the coordinator cannot be reached. */
  initialRetryMs: number;
  maxRetryMs: number;
  /** Give up after this long without reaching a coordinator (0: never). */
  giveUpMs: number;
  log: (line: string) => void;
}

/** Largest frame we accept from a coordinator (a shard of a large mini-batch). */
const MAX_INCOMING_BYTES = 1 << 30;

/** Shards computed over the process's life, and how many of them ahead of their shard frame (see runAhead). */
type WorkCount = { shards: number; ahead: number };

/** `withoutShm`: the coordinator's shared-memory lane could not be opened; join again offering none. */
type SessionEnd = CoordinatorEnd | { kind: 'lost'; wasWelcomed: boolean; detail: string; withoutShm?: boolean };

/**
 * A worker's life: connect (retrying with backoff until a coordinator answers), take the welcome, then compute
 * every shard it is sent on its replica of the parameters. Resolves with the process exit code: 0 when training
 * ended normally, 1 when refused or when it gave up.
 */
export async function runWorker(options: WorkerOptions): Promise<number> {
  let delayMs = options.initialRetryMs;
  let unreachableSinceMs = Date.now();
  let replica: Replica | null = null;
  const work: WorkCount = { shards: 0, ahead: 0 };
  // One lane for the process's life, offered to every coordinator it joins; dropped if a coordinator's is unusable.
  let lane = options.shm ? ShmWriter.create() : null;
  // How our kernel rounds (rounding-probe.ts), probed once: every hello carries it, so the coordinator can tell kernels apart.
  const sessionOptions: SessionOptions = { ...options, rounding: roundingFingerprint(options.gemm) };
  for (;;) {
    const end = await session(sessionOptions, lane, replica, work, (next) => { replica = next; });
    if ((end.kind === 'lost' && end.withoutShm) || lane?.failure) {
      lane?.close();
      lane = null;
    }
    if (end.kind === 'done') {
      if (work.ahead > 0) options.log(`computed ${work.shards} shards, ${work.ahead} of them ahead on parameters from its own updates`);
      options.log(`training finished: ${end.reason}`);
      return 0;
    }
    if (end.kind === 'refused') {
      options.log(`refused by the coordinator: ${end.message}`);
      return 1;
    }
    if (end.wasWelcomed) {
      delayMs = options.initialRetryMs;
      unreachableSinceMs = Date.now();
    }
    if (options.giveUpMs > 0 && Date.now() - unreachableSinceMs > options.giveUpMs) {
      options.log(`giving up: no coordinator at ${options.url} for ${Math.round(options.giveUpMs / 1000)} s (${end.detail})`);
      return 1;
    }
    options.log(`coordinator at ${options.url} ${end.wasWelcomed ? 'went away' : 'not reachable'} (${end.detail}); retrying in ${(delayMs / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, delayMs * (0.8 + 0.4 * Math.random())));
    delayMs = Math.min(options.maxRetryMs, delayMs * 2);
  }
}

/** The worker's options and what it learned of itself at start: its kernel's rounding fingerprint. */
type SessionOptions = WorkerOptions & { rounding: string };

/** One connection, from open to close. */
async function session(
  options: SessionOptions, lane: ShmWriter | null, previous: Replica | null, work: WorkCount, keep: (replica: Replica) => void,
): Promise<SessionEnd> {
  let socket: WebSocket;
  try {
    socket = await openSocket({ ...options, role: 'worker', maxPayloadBytes: MAX_INCOMING_BYTES });
  } catch (error) {
    if (error instanceof UpgradeRefused) return { kind: 'refused', message: error.message };
    return { kind: 'lost', wasWelcomed: false, detail: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
  return run(socket, options, lane, previous, work, keep);
}

function run(
  socket: WebSocket, options: SessionOptions, lane: ShmWriter | null, previous: Replica | null, work: WorkCount,
  keep: (replica: Replica) => void,
): Promise<SessionEnd> {
  return new Promise((resolve) => {
    let replica = previous;
    // When the worker last became able to compute: it held the newest parameters and had sent its last result.
    let readyAtMs = performance.now();
    const prefetched = new Map<number, PrefetchedSamples>();
    // Run-ahead (see runAhead): results computed (and sent) before their shard arrived, by step; the last step we
    // computed; the last step whose shard arrived (results may run RESULTS_AHEAD steps beyond it).
    const ahead = new Map<number, AheadResult>();
    let lastStepComputed = -1;
    let lastShardStep = -1;
    let wasWelcomed = false;
    // The coordinator's lane, once its welcome offers one: its frames may refer to it and ours to our `lane`.
    let coordinatorLane: ShmReader | null = null;
    let ending: SessionEnd | null = null;
    const finish = (end: SessionEnd): void => { ending ??= end; };
    // The coordinator pings every pingIntervalMs; hearing nothing for several intervals means the link is gone
    // (a cut cable sends no FIN): drop the socket and reconnect instead of waiting for TCP to give up.
    let lastHeardMs = Date.now();
    let silenceLimitMs = Number.POSITIVE_INFINITY;
    const heard = (): void => { lastHeardMs = Date.now(); };
    let lastTickMs = Date.now();
    const watchdog = setInterval(() => {
      const now = Date.now();
      // A late tick means our own event loop was busy computing: whatever the coordinator sent is still queued.
      if (now - lastTickMs > 2000) heard();
      lastTickMs = now;
      if (now - lastHeardMs > silenceLimitMs) {
        finish({ kind: 'lost', wasWelcomed, detail: `nothing heard from the coordinator for ${Math.round(silenceLimitMs / 1000)} s` });
        socket.terminate();
      }
    }, 1000);
    socket.on('ping', heard);

    socket.on('open', () => {
      socket.send(encode({
        type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: options.name, kernel: options.gemm.name, rounding: options.rounding, appliesUpdates: true, ...(lane ? { shm: lane.offer } : {}),
      }));
    });
    socket.on('message', (bytes: RawData) => {
      heard();
      try {
        const message = decodeToWorker(bytes as Buffer, wasWelcomed && replica ? replica.computer : null, coordinatorLane);
        handle(message);
      } catch (error) {
        const detail = error instanceof ProtocolError ? `${error.code}: ${error.message}` : String(error);
        finish({ kind: 'refused', message: `bad frame from coordinator (${detail})` });
        socket.close(CloseCode.protocolError, 'bad frame');
      }
    });
    onUpgradeRefused(socket, (message) => finish({ kind: 'refused', message }));
    socket.on('error', (error) => finish({ kind: 'lost', wasWelcomed, detail: (error as NodeJS.ErrnoException).code ?? error.message }));
    socket.on('close', (code, reason) => {
      clearInterval(watchdog);
      coordinatorLane?.close();
      resolve(ending ?? { kind: 'lost', wasWelcomed, detail: `connection closed, code ${code}${reason.length ? ` ${reason.toString()}` : ''}` });
    });

    function handle(message: ToWorker): void {
      switch (message.type) {
        case 'welcome': {
          const { cost, dtype } = message;
          replica = Replica.forJob(replica, message.sizes, options.gemm, cost, dtype);
          takeParams(replica, message);
          readyAtMs = performance.now();
          wasWelcomed = true;
          silenceLimitMs = Math.max(10_000, 4 * message.pingIntervalMs);
          keep(replica);
          if (message.shm && lane) {
            // Parameters are copied into the replica as they arrive: the lane's read buffers are reused after that.
            const opened = ShmReader.open(message.shm, 'pooled');
            if (typeof opened === 'string') {
              // It read our lane, so it will refer to its own: without it we cannot read its frames. Rejoin offering none.
              finish({ kind: 'lost', wasWelcomed, detail: `the coordinator's shared memory is not readable here: ${opened}; rejoining without it`, withoutShm: true });
              socket.close(CloseCode.normal, 'shared memory unusable');
              return;
            }
            coordinatorLane = opened;
          }
          const via = coordinatorLane ? ', shared memory' : '';
          options.log(`joined as ${message.workerId}: sizes ${shapeOf(message.sizes)}, ${cost} cost, ${dtype}, parameters v${message.version}, kernel ${describeCompute(options.gemm)}${via}`);
          return;
        }
        case 'params':
          if (!replica) return;
          takeParams(replica, message);
          coordinatorLane?.releaseAll();
          readyAtMs = Math.max(readyAtMs, performance.now());
          return;
        case 'samples':
          // Prefetched samples of a coming step; kept only until that step (the window is a few steps).
          prefetched.set(message.shardId, message);
          // They may complete a run-ahead that found them missing (a large frame still arriving after the shard).
          if (replica && message.step === lastStepComputed + 1) {
            const state = replica;
            setImmediate(() => runAhead(state, message.step));
          }
          return;
        case 'shard':
          if (replica) computeAndReply(replica, message);
          return;
        case 'done':
        case 'failure':
          finish(endBy(message, socket));
          return;
        default:
          assertNever(message);
      }
    }

    /** The coordinator's parameters replace the replica's, and so whatever was run ahead on it (see runAhead). */
    function takeParams(state: Replica, { version, weights, biases }: Pick<ParamsUpdate, 'version' | 'weights' | 'biases'>): void {
      state.receive(version, weights, biases);
      // Even under the same version number: a run ahead was computed on parameters of our own update. Whatever was
      // computed ahead is void, so the next shard's step is computed (and run ahead from) again.
      ahead.clear();
      lastStepComputed = -1;
    }

    function computeAndReply(state: Replica, shard: Shard): void {
      const fail = (message: string): void => { socket.send(encode({ type: 'failure', v: PROTOCOL_VERSION, code: 'unexpected', message })); };
      lastShardStep = Math.max(lastShardStep, shard.step);
      // Its result already went out, computed ahead on these very parameters (see runAhead).
      const candidate = ahead.get(shard.step);
      const early = candidate && isSameShard(candidate.samples, shard) && candidate.version === shard.version ? candidate : null;
      for (const step of ahead.keys()) if (step <= shard.step) ahead.delete(step);
      const data = shard.x === null ? prefetched.get(shard.shardId) : shard;
      for (const [shardId, samples] of prefetched) if (samples.step <= shard.step) prefetched.delete(shardId);
      if (early?.applied) {
        // Its samples brought the update as well, and it is applied already: the shard must bring the same one.
        if (!isSameUpdate(early.applied, shard.update)) {
          return fail(`shard ${shard.shardId} of step ${shard.step} brings the update ${describeUpdate(shard.update)}, ` +
            `but its samples brought ${describeUpdate(early.applied)}, which this worker has applied already`);
        }
      } else {
        if (shard.version !== state.version) return fail(`shard for parameters v${shard.version}, but this replica holds v${state.version}`);
        if (shard.update && state.masterVersion !== shard.version) {
          return fail(`shard ${shard.shardId} asks us to apply its update, but our float64 parameters are v${state.masterVersion}, not v${shard.version}`);
        }
        let blocks: BlockSum[];
        if (early) blocks = early.blocks;
        else {
          if (!data) return fail(`shard ${shard.shardId} of step ${shard.step} refers to samples that were never sent`);
          lastStepComputed = shard.step;
          const started = performance.now();
          // Samples that came inline were on this step's critical path: the time since we were ready is spent on them.
          const dataWaitMs = shard.x === null ? 0 : Math.max(0, started - readyAtMs);
          blocks = state.computer.compute(state.views, shard, data);
          sendResult(state, shard, blocks, performance.now() - started, dataWaitMs);
        }
        // The frame holds copies of the block sums now, so the update may add into them.
        if (shard.update) state.applyOwnUpdate(shard.update, shard.batchSize, shard.chunks, blocks, options.gemm);
      }
      work.shards++;
      if (early) work.ahead++;
      readyAtMs = performance.now();
      // The shard moved the run-ahead window on (and its update may have made the next step computable).
      setImmediate(() => runAhead(state, lastStepComputed + 1));
    }

    function sendResult(state: Replica, shard: Shard | PrefetchedSamples, blocks: BlockSum[], computeMs: number, dataWaitMs: number): void {
      const result: Gradients = {
        type: 'gradients', v: PROTOCOL_VERSION, step: shard.step, shardId: shard.shardId, version: state.version,
        blocks, computeMs, dataWaitMs, ...(state.ownSum === null ? {} : { paramsSum: state.ownSum }),
      };
      // Through shared memory the frame is small. Otherwise: without compression a ws client masks the frame into a
      // buffer of its own before send() returns, so the result can be encoded into the codec's reused buffer rather
      // than a fresh one per shard.
      if (coordinatorLane && lane && !lane.failure) {
        socket.send(encodeVia(result, lane));
        if (lane.failure) options.log(`shared memory stopped working: ${lane.failure}; results go over the socket from now on`);
      } else socket.send(socket.extensions === '' ? encodeTransient(result) : encode(result));
    }

    /**
     * Run-ahead: having applied step t's update ourselves, we hold the parameters of step t + 1 before the coordinator
     * has applied its own copy of that update. If the samples of step t + 1 were sent to us ahead for the whole
     * mini-batch, its result depends on nothing else, so we compute it and send it at once, with our parameters'
     * fingerprint; the coordinator keeps it until that step starts. When those samples also brought the step's
     * update (the one its shard will bring), we apply it right away and go on to step t + 2, and so on while samples
     * are here, up to RESULTS_AHEAD steps beyond the last shard; a shard then only confirms its update. Should the
     * coordinator send parameters first (it did not take one of our results), they discard every result run ahead,
     * and the shard is computed again. Runs after pending frames are handled: a step's shard already here, or new
     * parameters, come first. Asked after every shard and update, and when samples of the next step arrive (a large
     * frame may still be on its way when the update is done; without that call the step would wait for its shard).
     */
    function runAhead(state: Replica, step: number): void {
      if (ending || socket.readyState !== socket.OPEN || state.ownSum === null || lastStepComputed !== step - 1) return;
      if (step > lastShardStep + RESULTS_AHEAD) return;
      for (const samples of prefetched.values()) {
        if (samples.step !== step || samples.chunkStart !== 0 || samples.chunkEnd !== samples.chunks) continue;
        const started = performance.now();
        const blocks = state.computer.compute(state.views, samples, samples);
        sendResult(state, samples, blocks, performance.now() - started, 0);
        const result: AheadResult = { samples, version: state.version, blocks, applied: null };
        ahead.set(step, result);
        lastStepComputed = step;
        const { update } = samples;
        if (update && update.version === state.version + 1 && state.masterVersion === state.version) {
          // The frame holds copies of the block sums now, so the update may add into them.
          state.applyOwnUpdate(update, samples.batchSize, samples.chunks, blocks, options.gemm);
          result.applied = update;
          setImmediate(() => runAhead(state, step + 1));
        }
        return;
      }
    }
  });
}

/** A result computed before its shard arrived, and the update applied after it (from its samples), if any. */
type AheadResult = { samples: PrefetchedSamples; version: number; blocks: BlockSum[]; applied: SelfUpdate | null };

const isSameUpdate = (a: SelfUpdate, b: SelfUpdate | undefined): boolean =>
  b !== undefined && a.eta === b.eta && a.lambda === b.lambda && a.n === b.n && a.version === b.version;

const describeUpdate = (update: SelfUpdate | undefined): string =>
  update ? `(η ${update.eta}, λ ${update.lambda}, n ${update.n}, to v${update.version})` : '(none)';

/** Whether a shard is the one whose samples were sent ahead: same id, step and place in the mini-batch. */
function isSameShard(samples: PrefetchedSamples, shard: Shard): boolean {
  return samples.shardId === shard.shardId && samples.step === shard.step && samples.batchSize === shard.batchSize &&
    samples.chunks === shard.chunks && samples.chunkStart === shard.chunkStart && samples.chunkEnd === shard.chunkEnd;
}

export const defaultWorkerName = (): string => `${hostname()}/${process.pid}`;
