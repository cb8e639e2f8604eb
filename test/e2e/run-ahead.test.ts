import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLayout, zeroParams } from '../../shared/network/layout.js';
import { decodeToCoordinator, encode } from '../../shared/protocol/codec.js';
import { PROTOCOL_VERSION, type Gradients, type ShardData, type ToCoordinator } from '../../shared/protocol/messages.js';
import { startNabla, type RunningProcess } from '../support/cluster.js';
import { freePort } from '../support/free-port.js';

/**
 * A real worker process (`nabla worker`) against a coordinator played by the test, which decides when each frame
 * goes out: the samples of the next step arrive only after the worker has applied the step's update itself (as they
 * do when a large frame is still on its way). The worker must then compute that step at once and send it ahead of
 * its shard (docs/PROTOCOL.md, "Running ahead"), instead of idling until the shard comes.
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

describe('running ahead', () => {
  it('computes the next step when its samples arrive after the update, before that step\'s shard', async () => {
    const port = await freePort();
    server = new WebSocketServer({ host: '127.0.0.1', port });
    const received: Gradients[] = [];
    let onResult: () => void = () => {};
    const connected = new Promise<WebSocket>((resolve) => server?.on('connection', (socket) => {
      socket.on('message', (bytes: Buffer) => {
        const message: ToCoordinator = decodeToCoordinator(bytes, job);
        if (message.type === 'hello') {
          expect(message.appliesUpdates).toBe(true);
          resolve(socket);
        } else if (message.type === 'gradients') {
          received.push(message);
          onResult();
        }
      });
    }));
    const nextResult = (timeoutMs: number): Promise<Gradients | null> => new Promise((resolve) => {
      const count = received.length;
      const timer = setTimeout(() => resolve(null), timeoutMs);
      onResult = () => {
        if (received.length > count) {
          clearTimeout(timer);
          resolve(received[count]);
        }
      };
    });

    worker = startNabla(['worker', '--connect', `ws://127.0.0.1:${port}`, '--no-shm', '--kernel', 'js']);
    const socket = await connected;
    const params = zeroParams(layout);
    params.weights.forEach((_, i) => { params.weights[i] = Math.cos(i) * 0.3; });
    const send = (message: Parameters<typeof encode>[0]): void => socket.send(encode(message));
    send({ type: 'welcome', v: PROTOCOL_VERSION, workerId: 'w1', pingIntervalMs: 5000, sizes: [...layout.sizes], cost: 'quadratic', dtype: 'float64', version: 0, ...params });

    // Step 0, with its update: the worker computes it, answers, and applies the update itself (now at v1).
    const first = nextResult(10_000);
    send({ type: 'shard', v: PROTOCOL_VERSION, step: 0, shardId: 1, version: 0, ...range, ...samples(1), update: { eta: 1, lambda: 0, n: 1, version: 1 } });
    expect((await first)?.step).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200)); // its update is done, and found no samples of step 1

    // Only now the samples of step 1; no shard for it is sent.
    const ahead = nextResult(5_000);
    send({ type: 'samples', v: PROTOCOL_VERSION, step: 1, shardId: 2, ...range, ...samples(2) });
    const result = await ahead;
    expect(result, `no result ahead of the shard\n${worker.stderr()}`).not.toBeNull();
    expect(result).toMatchObject({ step: 1, shardId: 2, version: 1 });
    expect(result?.paramsSum, 'computed on parameters of its own update').toEqual(expect.any(Number));

    // Its shard then only brings the update: the worker does not compute it again.
    send({ type: 'shard', v: PROTOCOL_VERSION, step: 1, shardId: 2, version: 1, ...range, x: null, xDivisor: null, labels: null, y: null, update: { eta: 1, lambda: 0, n: 1, version: 2 } });
    expect(await nextResult(300)).toBeNull();
    send({ type: 'done', v: PROTOCOL_VERSION, reason: 'test over' });
    expect((await worker.exited).code).toBe(0);
    expect(worker.stderr()).toMatch(/computed 2 shards, 1 of them ahead/);
  });
});
