import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { jsGemm } from '../../shared/kernel/js-gemm.js';
import { createLayout, zeroParams, type Params } from '../../shared/network/layout.js';
import { sgdStep } from '../../shared/network/sgd.js';
import { layerViews } from '../../shared/network/workspace.js';
import { decodeToCoordinator, encode } from '../../shared/protocol/codec.js';
import { PROTOCOL_VERSION, RESULTS_AHEAD, type Failure, type Gradients, type ShardData, type ToCoordinator } from '../../shared/protocol/messages.js';
import { ShardComputer } from '../../worker/compute.js';
import { startNabla, type RunningProcess } from '../support/cluster.js';
import { freePort } from '../support/free-port.js';

/**
 * A real worker process (`nabla worker`) against a coordinator played by the test, which decides when each frame
 * goes out (docs/PROTOCOL.md, "Running ahead"): a worker that applies updates itself computes a step whose samples
 * it holds before that step's shard arrives, and, when the samples brought the step's update, applies it and goes on,
 * up to RESULTS_AHEAD steps beyond its last shard.
 */
const layout = createLayout([4, 5, 3]);
const job = { layout, dtype: 'float64' as const };
const BATCH = 4;
const CHUNKS = 2;
const range = { batchSize: BATCH, chunks: CHUNKS, chunkStart: 0, chunkEnd: CHUNKS };

function samples(seed: number): ShardData {
  const x = Float64Array.from({ length: BATCH * 4 }, (_, i) => Math.sin(seed + i) * 0.5);
  return { x, xDivisor: 1, labels: Uint16Array.from({ length: BATCH }, (_, i) => (seed + i) % 3), y: null };
}

let worker: RunningProcess | null = null;
let server: WebSocketServer | null = null;
afterEach(() => {
  worker?.kill();
  server?.close();
});

/** Starts a worker (JS kernel, no shared memory) against a WebSocket server of the test's. */
async function connectWorker() {
  const port = await freePort();
  server = new WebSocketServer({ host: '127.0.0.1', port });
  const received: Array<Gradients | Failure> = [];
  let onMessage: () => void = () => {};
  const connected = new Promise<WebSocket>((resolve) => server?.on('connection', (socket) => {
    socket.on('message', (bytes: Buffer) => {
      const message: ToCoordinator = decodeToCoordinator(bytes, job);
      if (message.type === 'hello') {
        expect(message.appliesUpdates).toBe(true);
        resolve(socket);
      } else if (message.type === 'gradients' || message.type === 'failure') {
        received.push(message);
        onMessage();
      }
    });
  }));
  /** The next message not yet taken by an earlier call, or null if none arrives within `timeoutMs`. */
  let taken = 0;
  const next = (timeoutMs: number): Promise<Gradients | Failure | null> => new Promise((resolve) => {
    const index = taken++;
    const timer = setTimeout(() => {
      taken = index; // nothing came: the next call waits for this one again
      resolve(null);
    }, timeoutMs);
    onMessage = () => {
      if (received.length > index) {
        clearTimeout(timer);
        resolve(received[index]);
      }
    };
    onMessage();
  });
  worker = startNabla(['worker', '--connect', `ws://127.0.0.1:${port}`, '--no-shm', '--kernel', 'js']);
  const socket = await connected;
  const params = zeroParams(layout);
  params.weights.forEach((_, i) => { params.weights[i] = Math.cos(i) * 0.3; });
  const send = (message: Parameters<typeof encode>[0]): void => socket.send(encode(message));
  send({ type: 'welcome', v: PROTOCOL_VERSION, workerId: 'w1', pingIntervalMs: 5000, sizes: [...layout.sizes], cost: 'quadratic', dtype: 'float64', version: 0, ...params });
  return { send, next, received, params, running: worker };
}

const update = (version: number, eta = 1) => ({ eta, lambda: 0, n: 1, version });
const prefetchedShard = (step: number, shardId: number, version: number, withUpdate = update(version + 1)) =>
  ({ type: 'shard', v: PROTOCOL_VERSION, step, shardId, version, ...range, x: null, xDivisor: null, labels: null, y: null, update: withUpdate } as const);

describe('running ahead', () => {
  it('computes the next step when its samples arrive after the update, before that step\'s shard', async () => {
    const { send, next, running } = await connectWorker();

    // Step 0, with its update: the worker computes it, answers, and applies the update itself (now at v1).
    const first = next(10_000);
    send({ type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 1, version: 0, ...range, ...samples(1), update: update(1) });
    expect((await first)?.type === 'gradients' && (await first as Gradients).step).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200)); // its update is done, and found no samples of step 1

    // Only now the samples of step 1 (without their update); no shard for it is sent.
    const ahead = next(5_000);
    send({ type: 'samples', v: PROTOCOL_VERSION, step: 1, shardId: 2, ...range, ...samples(2) });
    const result = await ahead as Gradients | null;
    expect(result, `no result ahead of the shard\n${running.stderr()}`).not.toBeNull();
    expect(result).toMatchObject({ step: 1, shardId: 2, version: 1 });
    expect(result?.paramsSum, 'computed on parameters of its own update').toEqual(expect.any(Number));

    // Its shard then only brings the update: the worker does not compute it again.
    send(prefetchedShard(1, 2, 1));
    expect(await next(300)).toBeNull();
    send({ type: 'done', v: PROTOCOL_VERSION, reason: 'test over' });
    expect((await running.exited).code).toBe(0);
    expect(running.stderr()).toMatch(/computed 2 shards, 1 of them ahead/);
  });

  it(`with the updates in the samples, runs ${RESULTS_AHEAD} steps beyond its last shard, each on the parameters the serial updates give`, async () => {
    const { send, next, received, params, running } = await connectWorker();
    const steps = RESULTS_AHEAD + 3;
    for (let step = 1; step < steps; step++) {
      send({ type: 'samples', v: PROTOCOL_VERSION, step, shardId: step + 1, ...range, update: update(step + 1), ...samples(step + 1) });
    }
    send({ type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 1, version: 0, ...range, ...samples(1), update: update(1) });
    // Step 0 and the next RESULTS_AHEAD, with no other shard; then it waits.
    for (let step = 0; step <= RESULTS_AHEAD; step++) expect(await next(10_000), `result of step ${step}\n${running.stderr()}`).toMatchObject({ type: 'gradients', step });
    expect(await next(300), 'a step beyond the lead allowed').toBeNull();
    // Each shard moves the window on by one step.
    send(prefetchedShard(1, 2, 1));
    expect(await next(10_000)).toMatchObject({ type: 'gradients', step: RESULTS_AHEAD + 1 });
    send(prefetchedShard(2, 3, 2));
    expect(await next(10_000)).toMatchObject({ type: 'gradients', step: RESULTS_AHEAD + 2 });
    expect(await next(300), 'no samples of a later step').toBeNull();

    // The serial algorithm, here: step s's gradient on the parameters of s updates, then its update. Every result
    // must be that gradient, on parameters whose fingerprint is that update's.
    const computer = new ShardComputer(layout, jsGemm, 'quadratic', 'float64');
    const serial: Params = { weights: params.weights.slice(), biases: params.biases.slice() };
    let fingerprint: number | null = null;
    for (let step = 0; step < steps; step++) {
      const result = received[step] as Gradients;
      expect(result).toMatchObject({ step, shardId: step + 1, version: step });
      if (step > 0) expect(result.paramsSum, `fingerprint of the parameters of step ${step}`).toBe(fingerprint);
      const [block] = computer.compute(layerViews(layout, serial), range, samples(step + 1));
      expect(Array.from(result.blocks[0].nablaW), `gradient of step ${step}`).toEqual(Array.from(block.nablaW));
      fingerprint = sgdStep(serial, { weights: block.nablaW, biases: block.nablaB }, 1, BATCH);
    }
    send({ type: 'done', v: PROTOCOL_VERSION, reason: 'test over' });
    expect((await running.exited).code).toBe(0);
    expect(running.stderr()).toMatch(new RegExp(`computed 3 shards, 2 of them ahead`));
  });

  it('discards what it ran ahead when parameters come instead, and runs ahead again from the shard it computes on them', async () => {
    const { send, next, received, params, running } = await connectWorker();
    for (let step = 1; step <= RESULTS_AHEAD + 1; step++) {
      send({ type: 'samples', v: PROTOCOL_VERSION, step, shardId: step + 1, ...range, update: update(step + 1), ...samples(step + 1) });
    }
    send({ type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 1, version: 0, ...range, ...samples(1), update: update(1) });
    for (let step = 0; step <= RESULTS_AHEAD; step++) expect(await next(10_000)).toMatchObject({ type: 'gradients', step });

    // The coordinator did not take the worker's update (say, its result came late): its own v1 replaces the
    // worker's, and step 1 comes again. Other parameters than the worker's, so a result on the old ones shows.
    const coordinators: Params = { weights: params.weights.map((w) => w * 0.5), biases: params.biases.map((b) => b + 0.25) };
    send({ type: 'params', v: PROTOCOL_VERSION, version: 1, ...coordinators });
    send(prefetchedShard(1, 2, 1));
    const computer = new ShardComputer(layout, jsGemm, 'quadratic', 'float64');
    for (let step = 1; step <= RESULTS_AHEAD + 1; step++) {
      const result = await next(10_000) as Gradients;
      expect(result, `result of step ${step} after the parameters\n${running.stderr()}`).toMatchObject({ type: 'gradients', step, version: step });
      const [block] = computer.compute(layerViews(layout, coordinators), range, samples(step + 1));
      expect(Array.from(result.blocks[0].nablaW), `step ${step} on the coordinator's parameters and the updates since`).toEqual(Array.from(block.nablaW));
      sgdStep(coordinators, { weights: block.nablaW, biases: block.nablaB }, 1, BATCH);
    }
    expect(await next(300)).toBeNull();
    expect(received).toHaveLength(2 * (RESULTS_AHEAD + 1));
    running.kill();
  });

  it('answers a shard whose update differs from the one its samples brought (and it applied) with a failure naming both', async () => {
    const { send, next, running } = await connectWorker();
    send({ type: 'samples', v: PROTOCOL_VERSION, step: 1, shardId: 2, ...range, update: update(2), ...samples(2) });
    send({ type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 1, version: 0, ...range, ...samples(1), update: update(1) });
    expect(await next(10_000)).toMatchObject({ type: 'gradients', step: 0 });
    expect(await next(10_000)).toMatchObject({ type: 'gradients', step: 1, version: 1 });
    send(prefetchedShard(1, 2, 1, update(2, 0.5)));
    const failure = await next(10_000);
    expect(failure).toMatchObject({ type: 'failure', code: 'unexpected' });
    expect((failure as Failure).message).toBe('shard 2 of step 1 brings the update (η 0.5, λ 0, n 1, to v2), but its samples brought (η 1, λ 0, n 1, to v2), which this worker has applied already');
    running.kill();
  });
});
