import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { Role } from '../shared/auth.js';
import type { SampleSet } from '../shared/data/samples.js';
import type { Dtype, Floats } from '../shared/kernel/dtype.js';
import type { CostName } from '../shared/network/cost.js';
import { zeroParams, type ParamLayout, type Params } from '../shared/network/layout.js';
import { encode, encodeVia, decodeToCoordinator, maxPayloadBytes, shardRows } from '../shared/protocol/codec.js';
import { ShmReader, ShmWriter, type ShmOffer } from '../shared/protocol/shm.js';
import { ProtocolError } from '../shared/protocol/errors.js';
import {
  assertNever, CloseCode, PROTOCOL_VERSION, type Failure, type FailureCode, type Gradients, type Hello, type ParamsUpdate, type SelfUpdate, type ShardData, type ToCoordinator,
} from '../shared/protocol/messages.js';
import type { VectorAdd } from '../shared/reduction/combine.js';
import { chunkCount, chunkOffset } from '../shared/reduction/tree.js';
import type { Reporter } from './events.js';
import { startServer, type CoordinatorServer } from './server.js';
import { FanOutTuner, StepWorkerChoice, type FanOutMode } from './fan-out.js';
import { splitChunks } from './sharding.js';
import { StepRun, type PlannedShard, type ShardTag, type StepHost, type StepResult, type StepWorker } from './step.js';
import { msPerSample, newShardTiming, StepTimer, type ShardTiming } from './step-timing.js';
import type { WorkerStatus } from '../shared/protocol/status.js';

export const MIXED_KERNELS = ['warn', 'refuse'] as const;
export type MixedKernels = (typeof MIXED_KERNELS)[number];
/** What keeps every worker's rounding the same: said by the mixed-kernel warning and by the refusal. */
const FOR_EXACT_RESULTS = 'run every worker on one kind of machine, or give every worker one OPENBLAS_CORETYPE that all the machines ' +
  'support (e.g. Haswell on AVX2 machines), or run every worker with --kernel js';

export interface ClusterOptions {
  layout: ParamLayout;
  cost: CostName;
  /** The type workers compute in; parameters go out and gradients come back in it. */
  dtype: Dtype;
  /** auto: steps go to as many workers as measured fastest (fan-out.ts); all: every ready worker. */
  fanOut: FanOutMode;
  /** A worker whose kernel rounds differently from the first one to join: used with a warning, or refused at its hello. */
  mixedKernels: MixedKernels;
  /** The coordinator's kernel: its vector add sums the workers' block sums (any kernel gives the same bits). */
  kernel: VectorAdd;
  /** Offer workers on this host a shared-memory lane for parameters and gradients (shm.ts); false: sockets only. */
  shm: boolean;
  host: string;
  port: number;
  /** Upper bound on the fixed chunks a mini-batch is cut into (the reduction tree's leaves). */
  maxChunks: number;
  heartbeatTimeoutMs: number;
  /** A worker that holds a shard this long without answering is dropped and its shard re-issued. */
  shardTimeoutMs: number;
  /** Connections beyond this are refused at the upgrade. */
  maxConnections: number;
  /** Shared secret workers must prove (HMAC over a nonce) during the upgrade; null accepts anyone. */
  token: string | null;
  /** PEM certificate and key for wss://; null serves plain ws://. */
  tls: { cert: string; key: string } | null;
  reporter: Reporter;
}

/** A connection, as the coordinator sees it: a worker, or once its hello says so, a read-only monitor. */
interface WorkerLink extends StepWorker {
  readonly socket: WebSocket;
  readonly address: string;
  name: string;
  kernel: string;
  /** How its kernel rounds (rounding-probe.ts), when its hello said. */
  rounding: string | null;
  role: 'worker' | 'monitor' | null;
  /** The role its token handshake proved (null without a token). */
  readonly provenRole: Role | null;
  /** A worker that has been welcomed and can take shards. */
  isReady: boolean;
  /** The parameter version its replica holds: parameters are sent to a worker only before a shard of a newer step. */
  paramsVersion: number;
  /** Its hello said it can apply a step's update itself (messages.ts, Shard.update). */
  appliesUpdates: boolean;
  /** The version of the float64 parameters it holds (its replica, in a float64 job), or -1. */
  masterVersion: number;
  /** The shard of the current step whose update it will apply itself, and whether its result was accepted. */
  selfUpdate: { shardId: number; version: number; accepted: boolean } | null;
  /** The version its replica reached by its own update (its results then carry the update's fingerprint), or -1. */
  selfUpdatedVersion: number;
  /** Its shared-memory lane, when the worker offered one we can read: its frames may then refer to it. */
  shmIn: ShmReader | null;
  /** Its results were accepted at least once (its kernel then counts for the mixed-kernel warning). */
  hasContributed: boolean;
  connectedAtMs: number;
  lastSeenMs: number;
  weight: number;
  stats: { shards: number; samples: number; computeMs: number; bytesIn: number; bytesOut: number };
  timing: ShardTiming;
}

/** The samples at mini-batch positions [offset, offset + count), in order. */
export type ShardSamples = (offset: number, count: number) => SampleSet;

/**
 * The coordinator's side of the wire: accepts workers, keeps every replica on the current parameters, and runs
 * steps over whoever is connected. Bad frames close only the offending connection.
 */
export class Cluster implements StepHost {
  private readonly links = new Map<string, WorkerLink>();
  private server!: CoordinatorServer;
  private heartbeat!: NodeJS.Timeout;
  private workerCounter = 0;
  private shardCounter = 0;
  /**
   * The parameters as workers get them: the float64 master itself, or its float32 rounding (buffers reused), made
   * when a worker first needs it (see wire()): workers that apply their own updates never do.
   */
  private wireParams!: Params<Floats>;
  /** The version wireParams holds. */
  private wireVersion = -1;
  private version = 0;
  /** The float64 master parameters (the trainer's own arrays). */
  private masterParams!: Params;
  /** sgdStep's fingerprint of the current version, or null (the version did not come from an update here). */
  private paramsSum: number | null = null;
  /**
   * The `params` frames of the current version, each encoded once for every worker that needs it, by what they carry
   * (the wire parameters, or the float64 master in a float32 job) and how (inline, or through our lane, with the
   * bytes of the arrays left there: each worker it is sent to reads them once).
   */
  private readonly paramFrames = new Map<string, { frame: Buffer; sharedBytes: number }>();
  /** Our shared-memory lane (null with shm off or without a writable /dev/shm). */
  private lane: ShmWriter | null = null;
  private readonly tuner: FanOutTuner;
  /** The workers the current step's new shards go to (see stepWorkers). */
  private stepLinks: readonly WorkerLink[] = [];
  private readonly stepChoice = new StepWorkerChoice<WorkerLink>();
  private current: { run: StepRun; samples: ShardSamples; countsDataWait: boolean; update: SelfUpdate | null } | null = null;
  private starvedNoticeShown = false;
  /** The workers whose results were used: by kernel name, then by rounding fingerprint ('' when not sent). */
  private readonly kernelsSeen = new Map<string, Map<string, string[]>>();
  private isKernelMixWarned = false;
  /** With --mixed-kernels refuse: the kernel and rounding of the first worker that joined this run. */
  private firstKernel: { kernel: string; rounding: string | null } | null = null;
  private isStopping = false;
  private readonly joinWaiters = new Set<() => void>();
  /** Shards of coming steps whose samples were sent ahead, by step. */
  private readonly planned = new Map<number, PlannedShard[]>();
  /** Results of planned shards that arrived before their step (a worker running ahead), by shard id. */
  private readonly early = new Map<number, { link: WorkerLink; message: Gradients }>();
  private readonly monitors = new Set<WorkerLink>();
  private latestStatus: Buffer | null = null;
  /** The ready workers in connection order, rebuilt (as a new array) when one joins or leaves; null until needed. */
  private ready: WorkerLink[] | null = null;
  /** A ready worker's measured speed changed (or the set did) since the weights were last computed. */
  private areWeightsStale = true;
  readonly timer = new StepTimer();
  /** Time workers reported waiting for samples while holding the step's parameters, over all accepted shards. */
  readonly dataWait = { ms: 0, shards: 0 };
  /**
   * Bytes on the wire to and from every peer (frames, before WebSocket framing), and of the arrays that went through
   * shared memory instead (both directions), since the start.
   */
  readonly traffic = { sent: 0, received: 0, shared: 0 };
  workersSeen = 0;
  port = 0;

  constructor(private readonly options: ClusterOptions) {
    this.tuner = new FanOutTuner(options.fanOut);
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async start(params: Params, version: number): Promise<number> {
    const { host, port, tls, token, maxConnections, layout, reporter, dtype } = this.options;
    if (dtype !== 'float64') this.wireParams = zeroParams(layout, dtype);
    if (this.options.shm) this.lane = ShmWriter.create();
    this.setParams(params, version);
    this.server = await startServer({
      host, port, tls, token, maxConnections, maxPayloadBytes: maxPayloadBytes(layout),
      health: () => ({ workers: this.workerCount(), version: this.version }),
      onConnection: (socket, request, provenRole) => this.onConnection(socket, request, provenRole),
      onRefused: (address, reason) => reporter.emit({ event: 'rejected', address, reason: `connection ${address}: ${reason}` }),
    });
    this.port = this.server.port;
    this.heartbeat = setInterval(() => this.checkHeartbeats(), this.pingIntervalMs());
    return this.port;
  }

  /** Pings and liveness checks run this often. */
  private pingIntervalMs(): number {
    return Math.max(50, Math.round(Math.min(this.options.heartbeatTimeoutMs, this.options.shardTimeoutMs) / 4));
  }

  workerCount(): number {
    return this.readyWorkers().length;
  }

  /**
   * Workers that can take a shard, each weighted by its measured speed (the mean speed until it has one). Called
   * several times per step, so the list and the weights are cached until a worker joins or leaves or a speed changes;
   * the returned array is never modified afterwards (a change builds a new one).
   */
  readyWorkers(): readonly WorkerLink[] {
    if (this.ready === null) {
      this.ready = [];
      for (const link of this.links.values()) if (link.isReady) this.ready.push(link);
      this.areWeightsStale = true;
    }
    if (this.areWeightsStale) {
      this.areWeightsStale = false;
      let measuredSum = 0, measured = 0;
      for (const link of this.ready) {
        if (link.timing.samplesPerSecond > 0) {
          measuredSum += link.timing.samplesPerSecond;
          measured++;
        }
      }
      const meanSpeed = measuredSum / Math.max(1, measured);
      for (const link of this.ready) link.weight = link.timing.samplesPerSecond || meanSpeed || 1;
    }
    return this.ready;
  }

  /**
   * The ready workers new shards go to: the fan-out's quickest, in connection order; every ready worker when none
   * of those is left.
   */
  stepWorkers(): readonly WorkerLink[] {
    if (this.stepLinks.length > 0 && this.stepLinks.every((link) => link.isReady)) return this.stepLinks;
    const live = this.stepLinks.filter((link) => link.isReady);
    return live.length > 0 ? live : this.readyWorkers();
  }

  /** Picks the workers of the next step: the `fanOut` quickest of the ready ones (see msPerSample). */
  private chooseStepWorkers(): number {
    const ready = this.readyWorkers();
    const fanOut = this.tuner.fanOut(ready.length);
    this.stepLinks = this.stepChoice.choose(ready, fanOut, ({ timing }) => msPerSample(timing));
    return fanOut;
  }

  /** Readiness is about to change: the cached ready list is rebuilt on next use. */
  private setReady(link: WorkerLink, isReady: boolean): void {
    link.isReady = isReady;
    this.ready = null;
  }

  /** Resolves once at least `count` workers are connected, saying what it waits for. */
  async waitForWorkers(count: number): Promise<void> {
    while (this.workerCount() < count) {
      this.options.reporter.emit({ event: 'waiting', message: `${this.workerCount()} of ${count} workers connected; waiting for more (nabla worker --connect ws://HOST:${this.port})` });
      await new Promise<void>((resolve) => this.joinWaiters.add(resolve));
    }
  }

  /**
   * Runs one mini-batch over the cluster and resolves with the fixed-order sum of its gradients. `afterDispatch`
   * runs once the step's shards are sent (prefetching later steps then overlaps this step's compute).
   * `countsDataWait` false leaves the step out of the samples-wait statistic (a step after the coordinator paused
   * for an evaluation or a checkpoint, where the wait is the pause, not the samples).
   * `update`: the update the caller will apply to the sum and the version it will publish; a worker that computes
   * the whole mini-batch then applies it to its own replica (no parameters are sent to it for that version).
   * The previous step's result must be used up by then: arrays read through shared memory are reused from here on.
   */
  async runStep(
    step: number, batchSize: number, samples: ShardSamples,
    { afterDispatch, countsDataWait = true, update = null }: { afterDispatch?: () => void; countsDataWait?: boolean; update?: SelfUpdate | null } = {},
  ): Promise<StepResult> {
    for (const link of this.links.values()) link.shmIn?.releaseAll();
    const chunks = chunkCount(batchSize, this.options.maxChunks);
    const planned = this.planned.get(step) ?? [];
    this.planned.delete(step);
    const run = new StepRun(this, step, this.version, batchSize, chunks, () => ++this.shardCounter, this.options.kernel, planned);
    this.current = { run, samples, countsDataWait, update };
    const fanOut = this.chooseStepWorkers();
    this.timer.stepStarted();
    run.dispatch();
    this.takeEarlyResults(step);
    afterDispatch?.();
    try {
      const result = await run.done;
      const stepMs = this.timer.stepFinished(this.readyWorkers());
      // A step whose shards were re-issued (a worker left) says nothing about the fan-out's speed.
      const choice = this.tuner.stepFinished(result.reissued > 0 ? 0 : fanOut, stepMs);
      if (choice) this.options.reporter.emit({ event: 'fan-out', ...choice });
      return result;
    } finally {
      this.current = null;
    }
  }

  /**
   * The parameters for the next step, with sgdStep's fingerprint of them. They go to each worker right before its
   * next shard (one encoding for all), so a worker outside the step's fan-out is not sent parameters it would not
   * use; a worker whose accepted result came with this version's update holds them already.
   */
  publishParams(params: Params, version: number, fingerprint: number | null): void {
    this.setParams(params, version);
    this.paramsSum = fingerprint;
    this.paramFrames.clear();
    for (const link of this.links.values()) {
      if (link.selfUpdate?.accepted && link.selfUpdate.version === version) {
        link.paramsVersion = link.masterVersion = link.selfUpdatedVersion = version;
      }
      link.selfUpdate = null;
    }
  }

  /**
   * Sends the current parameters to a worker whose replica is older; `asMaster`: it will apply an update itself, so
   * it needs them in float64 (in a float32 job, the master rather than its rounding).
   */
  private bringUpToDate(link: WorkerLink, asMaster: boolean): void {
    if (link.paramsVersion === this.version && (!asMaster || link.masterVersion === this.version)) return;
    const sendsMaster = asMaster || this.options.dtype === 'float64';
    const { weights, biases } = sendsMaster ? this.masterParams : this.wire();
    const lane = link.shmIn ? this.lane : null;
    const key = `${sendsMaster ? 'master' : 'wire'} ${lane ? 'lane' : 'inline'}`;
    let encoded = this.paramFrames.get(key);
    if (!encoded) {
      const params = { type: 'params', v: PROTOCOL_VERSION, version: this.version, weights, biases } as const;
      encoded = lane ? this.encodeViaLane(params, lane) : { frame: encode(params), sharedBytes: 0 };
      this.paramFrames.set(key, encoded);
    }
    this.send(link, encoded.frame);
    this.traffic.shared += encoded.sharedBytes;
    link.paramsVersion = this.version;
    if (sendsMaster) link.masterVersion = this.version;
  }

  /**
   * The update a worker applies itself after this shard: when it said it can, the shard covers the whole mini-batch
   * and the caller gave the step's update. Recorded, so the worker's replica counts as current once its result is in.
   */
  private selfUpdateFor(link: WorkerLink, tag: ShardTag): SelfUpdate | null {
    const update = this.current?.update ?? null;
    if (!update || !link.appliesUpdates || tag.chunkStart !== 0 || tag.chunkEnd !== tag.chunks) return null;
    link.selfUpdate = { shardId: tag.shardId, version: update.version, accepted: false };
    return update;
  }

  /** A frame through our lane; if the lane fails (a full tmpfs), says so once and the frame carries its arrays inline. */
  private encodeViaLane(message: ParamsUpdate, lane: ShmWriter): { frame: Buffer; sharedBytes: number } {
    const before = lane.bytesWritten;
    const frame = encodeVia(message, lane);
    if (lane.failure) {
      this.options.reporter.emit({ event: 'warning', message: `shared memory stopped working: ${lane.failure}; parameters go over the sockets from now on` });
      this.lane = null;
    }
    return { frame, sharedBytes: lane.bytesWritten - before };
  }

  private setParams(params: Params, version: number): void {
    this.version = version;
    this.masterParams = params;
  }

  /** The current parameters in the job's wire type (float32: each value rounded to nearest, once per version). */
  private wire(): Params<Floats> {
    if (this.options.dtype === 'float64') return this.masterParams;
    if (this.wireVersion !== this.version) {
      this.wireParams.weights.set(this.masterParams.weights);
      this.wireParams.biases.set(this.masterParams.biases);
      this.wireVersion = this.version;
    }
    return this.wireParams;
  }

  sendShard(worker: StepWorker, tag: ShardTag, isPrefetched: boolean): boolean {
    const link = worker as WorkerLink;
    if (!this.current) throw new Error('sendShard called outside a step');
    if (link.socket.readyState !== WebSocket.OPEN) {
      this.dropLink(link, 'its connection closed');
      return false;
    }
    const count = shardRows(tag.batchSize, tag.chunks, tag.chunkStart, tag.chunkEnd);
    const data = isPrefetched ? { x: null, xDivisor: null, labels: null, y: null } : this.shardData(this.current.samples, tag);
    link.stats.shards++;
    link.stats.samples += count;
    const update = this.selfUpdateFor(link, tag);
    this.bringUpToDate(link, update !== null);
    this.timer.shardSent(link.timing, tag.chunkEnd - tag.chunkStart, count);
    this.send(link, encode({ type: 'shard', v: PROTOCOL_VERSION, ...tag, ...(update ? { update } : {}), ...data }));
    return true;
  }

  private shardData(samples: ShardSamples, range: { batchSize: number; chunks: number; chunkStart: number; chunkEnd: number }): ShardData {
    const offset = chunkOffset(range.batchSize, range.chunks, range.chunkStart);
    const set = samples(offset, chunkOffset(range.batchSize, range.chunks, range.chunkEnd) - offset);
    return { x: set.x, xDivisor: set.xDivisor, labels: set.labels, y: set.y };
  }

  /**
   * Prefetch: decides now which ready worker will compute which chunks of step `step`, and sends each its samples
   * ahead, so when the step comes only a small `shard` message is on its critical path. A worker that leaves in
   * between simply has its part re-issued with the samples inline. `update`: the step's update (the caller's, as
   * runStep will be given it), sent with the samples to a worker planned for the whole mini-batch.
   */
  prefetch(step: number, batchSize: number, samples: ShardSamples, update: SelfUpdate | null = null): void {
    const chunks = chunkCount(batchSize, this.options.maxChunks);
    const workers = this.stepWorkers();
    const plan: PlannedShard[] = [];
    splitChunks(0, chunks, workers.map((w) => w.weight)).forEach((range, i) => {
      if (!range) return;
      const link = workers[i];
      const shardId = ++this.shardCounter;
      const where = { batchSize, chunks, chunkStart: range[0], chunkEnd: range[1] };
      // The update its shard will bring (selfUpdateFor), told now so the worker may run further ahead.
      const ahead = update && link.appliesUpdates && range[0] === 0 && range[1] === chunks ? { update } : {};
      this.send(link, encode({ type: 'samples', v: PROTOCOL_VERSION, step, shardId, ...where, ...ahead, ...this.shardData(samples, where) }));
      plan.push({ shardId, workerId: link.id, start: range[0], end: range[1] });
    });
    this.planned.set(step, plan);
  }

  onStarved(): void {
    if (this.starvedNoticeShown) return;
    this.starvedNoticeShown = true;
    this.options.reporter.emit({ event: 'waiting', message: `no worker connected; waiting for one (start one with: nabla worker --connect ws://HOST:${this.port})` });
  }

  /** Tells every worker that training is over and stops listening. */
  async stop(reason: string, isFinished = true): Promise<void> {
    this.isStopping = true;
    clearInterval(this.heartbeat);
    // Only a finished job says `done` (workers then exit 0); an interrupted coordinator just goes away, so its
    // workers keep retrying and rejoin when it is restarted with --resume.
    const frame = encode({ type: 'done', v: PROTOCOL_VERSION, reason });
    for (const link of this.links.values()) {
      if (isFinished && link.role !== null) this.send(link, frame);
      link.socket.close(isFinished ? CloseCode.normal : CloseCode.goingAway, reason);
    }
    for (const socket of this.server.clients) socket.close(isFinished ? CloseCode.normal : CloseCode.goingAway, reason);
    await this.server.close();
    this.lane?.close();
  }

  private onConnection(socket: WebSocket, request: IncomingMessage, provenRole: Role | null): void {
    const address = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const link: WorkerLink = {
      id: `w${++this.workerCounter}`, socket, address, name: '', kernel: '', rounding: null, role: null, provenRole, isReady: false, paramsVersion: -1,
      appliesUpdates: false, masterVersion: -1, selfUpdate: null, selfUpdatedVersion: -1, shmIn: null, hasContributed: false,
      connectedAtMs: Date.now(), lastSeenMs: Date.now(), weight: 1,
      stats: { shards: 0, samples: 0, computeMs: 0, bytesIn: 0, bytesOut: 0 }, timing: newShardTiming(),
    };
    this.links.set(link.id, link);
    socket.on('message', (bytes: RawData, isBinary) => this.onFrame(link, bytes, isBinary));
    socket.on('pong', () => { link.lastSeenMs = Date.now(); });
    socket.on('close', () => this.dropLink(link, 'its connection closed'));
    socket.on('error', (error) => this.reject(link, 'malformed', `socket error: ${error.message}`));
  }

  private onFrame(link: WorkerLink, bytes: RawData, isBinary: boolean): void {
    // Frames already in flight from a connection we refused are not read: one refusal per connection.
    if (this.links.get(link.id) !== link) return;
    link.lastSeenMs = Date.now();
    const frame = bytes as Buffer;
    link.stats.bytesIn += frame.length;
    this.traffic.received += frame.length;
    this.refusingOnProtocolError(link, () => {
      if (!isBinary) throw new ProtocolError('malformed', 'text frames are not part of the protocol; send msgpack in binary frames');
      const sharedBefore = link.shmIn?.bytesRead ?? 0;
      const message = decodeToCoordinator(frame, this.options, link.shmIn);
      this.traffic.shared += (link.shmIn?.bytesRead ?? 0) - sharedBefore;
      if (link.role === null && message.type !== 'hello') throw new ProtocolError('unexpected', `the first message must be "hello", got "${message.type}"`);
      if (link.role !== null && message.type === 'hello') throw new ProtocolError('unexpected', 'hello sent twice');
      if (link.role === 'monitor') throw new ProtocolError('unexpected', `monitors are read-only; "${message.type}" is not accepted from a monitor`);
      if (message.type === 'hello' && link.provenRole !== null && message.role !== link.provenRole) {
        throw new ProtocolError('bad-field', `hello says role "${message.role}" but the handshake proved "${link.provenRole}"`);
      }
      this.dispatch(link, message);
    });
  }

  /** Runs what a peer's message asks for; a ProtocolError it throws refuses that peer (anything else is our bug). */
  private refusingOnProtocolError(link: WorkerLink, handle: () => void): void {
    try {
      handle();
    } catch (error) {
      if (error instanceof ProtocolError) this.reject(link, error.code, error.message);
      else throw error;
    }
  }

  private dispatch(link: WorkerLink, message: ToCoordinator): void {
    switch (message.type) {
      case 'hello':
        return message.role === 'monitor' ? this.welcomeMonitor(link, message.name) : this.welcome(link, message);
      case 'gradients':
        if (message.step > (this.current?.run.step ?? -1) && this.keepEarly(link, message)) return;
        return this.onResult(link, message);
      case 'failure':
        this.options.reporter.emit({ event: 'warning', message: `worker ${link.id} (${link.name}) reports ${message.code}: ${message.message}` });
        link.socket.close(CloseCode.normal, 'worker reported a failure');
        this.dropLink(link, `it reported ${message.code}`);
        return;
      default:
        return assertNever(message);
    }
  }

  /** A result for the current step (others are dropped and counted); throws ProtocolError for a wrong one. */
  private onResult(link: WorkerLink, message: Gradients): void {
    if (!this.current) return;
    const { run, countsDataWait } = this.current;
    if (message.paramsSum !== undefined || link.selfUpdatedVersion === message.version) {
      // On parameters the worker updated itself: taken only when we took that update up (otherwise it has been sent
      // ours, which discard its run ahead, and it computes the shard again)…
      if (link.selfUpdatedVersion !== message.version) return run.drop();
      // …and only when they are ours.
      if (!sameFingerprint(message.paramsSum, this.paramsSum)) {
        throw new ProtocolError('bad-field', `its parameters v${message.version}, from its own update, have the fingerprint ` +
          `${message.paramsSum ?? '(none)'} but ours ${this.paramsSum}: it applies updates differently (another nabla version?)`);
      }
    }
    if (!run.onGradients(link.id, message)) return;
    const selfUpdate = link.selfUpdate;
    if (selfUpdate?.shardId === message.shardId) selfUpdate.accepted = true;
    link.stats.computeMs += message.computeMs;
    if (countsDataWait) {
      this.dataWait.ms += message.dataWaitMs ?? 0;
      this.dataWait.shards++;
    }
    this.timer.resultArrived(link.timing, message.computeMs);
    this.areWeightsStale = true;
    if (!link.hasContributed) {
      link.hasContributed = true;
      this.noteKernel(link);
    }
  }

  /**
   * A result for a later step than the current one: a worker that applies updates itself computed its planned shard
   * of that step ahead (worker/client.ts, runAhead). Kept until that step starts, for a shard planned for this worker
   * and with its parameters' fingerprint only; arrays it read through shared memory are kept out of the reuse that
   * starts with the next step (see runStep) until then.
   */
  private keepEarly(link: WorkerLink, message: Gradients): boolean {
    const isPlanned = this.planned.get(message.step)?.some((shard) => shard.shardId === message.shardId && shard.workerId === link.id);
    // A second one for the same shard is a duplicate: dropped and counted like any.
    if (!isPlanned || message.paramsSum === undefined || this.early.has(message.shardId)) return false;
    forEachArray(message, (array) => link.shmIn?.retain(array));
    this.early.set(message.shardId, { link, message });
    return true;
  }

  /** Takes the results kept for this step, once its shards are out (see onResult for those we cannot take). */
  private takeEarlyResults(step: number): void {
    for (const [shardId, { link, message }] of this.early) {
      if (message.step > step) continue;
      this.early.delete(shardId);
      // Held like this step's other results from here on: until the next step starts.
      forEachArray(message, (array) => link.shmIn?.giveBack(array));
      if (message.step === step && this.links.get(link.id) === link) this.refusingOnProtocolError(link, () => this.onResult(link, message));
    }
  }

  private welcomeMonitor(link: WorkerLink, name: string): void {
    link.role = 'monitor';
    link.name = name;
    this.monitors.add(link);
    if (this.latestStatus) this.send(link, this.latestStatus);
  }

  /** Sends one encoded status frame to every monitor (the feed encodes once, whatever their number). */
  publishStatus(frame: Buffer): void {
    this.latestStatus = frame;
    for (const monitor of this.monitors) {
      // A monitor that cannot keep up skips snapshots rather than queueing them in our memory.
      if (monitor.socket.bufferedAmount < 4 * frame.length) this.send(monitor, frame);
    }
  }

  monitorCount(): number {
    return this.monitors.size;
  }

  /** The per-worker rows of the monitor feed. */
  workerStatuses(nowMs = Date.now()): WorkerStatus[] {
    return this.readyWorkers().map((link) => ({
      id: link.id, name: link.name, address: link.address, kernel: link.kernel, sharedMemory: link.shmIn !== null,
      ownUpdates: link.selfUpdatedVersion === this.version,
      state: this.current?.run.holdsShard(link.id) ? 'busy' : 'idle',
      chunks: link.timing.chunks, samplesPerSecond: link.timing.samplesPerSecond,
      computeMs: link.timing.computeMs, transferMs: link.timing.transferMs, waitMs: link.timing.waitMs,
      bytesIn: link.stats.bytesIn, bytesOut: link.stats.bytesOut, shards: link.stats.shards, samples: link.stats.samples,
      heartbeatAgeMs: nowMs - link.lastSeenMs,
    }));
  }

  private welcome(link: WorkerLink, { name, kernel, rounding, shm: offer, appliesUpdates }: Hello): void {
    link.name = name;
    link.kernel = kernel;
    link.rounding = rounding ?? null;
    const unlike = this.unlikeFirstKernel(link);
    if (unlike) {
      this.reject(link, 'bad-field', `${unlike}, and this coordinator runs with --mixed-kernels refuse so that every result keeps the same bits: ` +
        `${FOR_EXACT_RESULTS} (or start the coordinator with --mixed-kernels warn)`);
      return;
    }
    link.role = 'worker';
    link.appliesUpdates = appliesUpdates === true;
    const shm = this.openLane(link, offer);
    const { weights, biases } = this.wire();
    this.send(link, encode({
      type: 'welcome', v: PROTOCOL_VERSION, workerId: link.id, pingIntervalMs: this.pingIntervalMs(), sizes: [...this.options.layout.sizes],
      cost: this.options.cost, dtype: this.options.dtype, version: this.version, weights, biases,
      ...(shm ? { shm } : {}),
    }));
    link.paramsVersion = this.version;
    if (this.options.dtype === 'float64') link.masterVersion = this.version;
    this.setReady(link, true);
    this.workersSeen++;
    this.starvedNoticeShown = false;
    this.options.reporter.emit({
      event: 'worker-joined', workerId: link.id, name, address: link.address, kernel, rounding: link.rounding, sharedMemory: link.shmIn !== null, workers: this.workerCount(),
    });
    for (const wake of this.joinWaiters) wake();
    this.joinWaiters.clear();
    this.current?.run.dispatch();
  }

  /**
   * Opens the lane a worker offers when we have one too, and returns ours for its welcome; null (sockets only) when
   * either side has none or the worker's lane is not readable from here (another host or container).
   */
  private openLane(link: WorkerLink, offer: ShmOffer | undefined): ShmOffer | null {
    if (!offer || !this.lane) return null;
    // Block sums live until their step is over (see runStep), then the lane's read buffers are reused.
    const reader = ShmReader.open(offer, 'pooled');
    if (typeof reader === 'string') return null;
    link.shmIn = reader;
    return this.lane.offer;
  }

  /**
   * With --mixed-kernels refuse, why a joining worker's kernel is not the one the first worker of the run joined with
   * (another name or another rounding fingerprint; workers that send none are compared by name), else null. The first
   * worker to join sets it.
   */
  private unlikeFirstKernel(link: WorkerLink): string | null {
    if (this.options.mixedKernels !== 'refuse') return null;
    const first = this.firstKernel ??= { kernel: link.kernel, rounding: link.rounding };
    if (first.kernel === link.kernel && first.rounding === link.rounding) return null;
    const describe = (k: { kernel: string; rounding: string | null }): string => `${k.kernel} (rounding ${k.rounding ?? 'not sent'})`;
    return `its kernel ${describe(link)} is not the run's ${describe(first)}`;
  }

  /**
   * Warns once when workers whose results were used round differently: they run kernels of different names, or of one
   * name with different rounding fingerprints (OpenBLAS tunes itself to the CPU: two machines of another family give
   * other bits). A worker that sends no fingerprint is judged by its kernel's name alone.
   */
  private noteKernel(link: WorkerLink): void {
    const byRounding = this.kernelsSeen.get(link.kernel) ?? new Map<string, string[]>();
    this.kernelsSeen.set(link.kernel, byRounding);
    const rounding = link.rounding ?? '';
    byRounding.set(rounding, [...(byRounding.get(rounding) ?? []), link.id]);
    const fingerprints = [...byRounding.keys()].filter((bits) => bits !== '');
    if (this.isKernelMixWarned || (this.kernelsSeen.size < 2 && fingerprints.length < 2)) return;
    this.isKernelMixWarned = true;
    const kinds = [...this.kernelsSeen].flatMap(([name, groups]) =>
      [...groups].map(([bits, ids]) => `${name}${bits ? ` rounding ${bits}` : ''} on ${ids.join(', ')}`));
    this.options.reporter.emit({
      event: 'warning',
      message: `workers compute with kernels that round differently (${kinds.join('; ')}): results stay correct but are no longer ` +
        `bit-identical across runs or worker counts; for exact results ${FOR_EXACT_RESULTS}`,
    });
  }

  /** Refuses a frame: tells the peer why, closes only that connection, and re-issues its share of the step. */
  private reject(link: WorkerLink, code: FailureCode, message: string): void {
    if (this.links.get(link.id) !== link) return; // already refused or gone: one refusal per connection
    const text = `${link.name ? `worker ${link.id} (${link.name})` : `connection ${link.address}`}: ${message}`;
    this.options.reporter.emit({ event: 'rejected', address: link.address, reason: text });
    if (link.socket.readyState === WebSocket.OPEN) {
      const failure: Failure = { type: 'failure', v: PROTOCOL_VERSION, code, message };
      link.socket.send(encode(failure));
      link.socket.close(code === 'version-mismatch' || code === 'malformed' ? CloseCode.protocolError : CloseCode.policyViolation, code);
    }
    this.dropLink(link, `rejected: ${message}`);
  }

  private dropLink(link: WorkerLink, reason: string): void {
    if (!this.links.delete(link.id)) return;
    this.monitors.delete(link);
    link.shmIn?.close();
    const wasReady = link.isReady;
    this.setReady(link, false);
    if (link.socket.readyState === WebSocket.OPEN) link.socket.terminate();
    if (!wasReady || this.isStopping) return;
    this.options.reporter.emit({ event: 'worker-left', workerId: link.id, reason, workers: this.workerCount() });
    this.current?.run.onWorkerLost(link.id);
  }

  private send(link: WorkerLink, frame: Buffer): void {
    link.stats.bytesOut += frame.length;
    this.traffic.sent += frame.length;
    link.socket.send(frame, { binary: true });
  }

  /** Drops the silent (no pong), the mute (no hello) and the stuck (a shard overdue); their work is re-issued. */
  private checkHeartbeats(): void {
    const now = Date.now();
    const { heartbeatTimeoutMs, shardTimeoutMs } = this.options;
    for (const workerId of this.current?.run.overdueWorkers(now, shardTimeoutMs) ?? []) {
      const link = this.links.get(workerId);
      if (link) this.reject(link, 'too-many-faults', `no result for its shard within ${shardTimeoutMs / 1000} s`);
    }
    for (const link of this.links.values()) {
      if (link.role === null && now - link.connectedAtMs > heartbeatTimeoutMs) {
        this.reject(link, 'unexpected', `no hello within ${heartbeatTimeoutMs / 1000} s of connecting`);
      } else if (now - link.lastSeenMs > heartbeatTimeoutMs) {
        this.dropLink(link, `no heartbeat for ${heartbeatTimeoutMs / 1000} s`);
      } else if (link.socket.readyState === WebSocket.OPEN) {
        link.socket.ping();
      }
    }
  }
}

/** Two sgdStep fingerprints agree: equal numbers (msgpack does not keep the sign of a zero), or both NaN. */
function sameFingerprint(theirs: number | undefined, ours: number | null): boolean {
  return theirs !== undefined && ours !== null && (theirs === ours || (Number.isNaN(theirs) && Number.isNaN(ours)));
}

/** The arrays of a result's block sums. */
function forEachArray(message: Gradients, use: (array: Floats) => void): void {
  for (const block of message.blocks) {
    use(block.nablaW);
    use(block.nablaB);
  }
}
