import { WebSocket } from 'ws';
import { jsGemm } from '../../shared/kernel/js-gemm.js';
import type { ParamLayout } from '../../shared/network/layout.js';
import { decodeToWorker, encode, encodeVia } from '../../shared/protocol/codec.js';
import { ShmReader, ShmWriter } from '../../shared/protocol/shm.js';
import { PROTOCOL_VERSION, type BlockSum, type Shard, type ShardData } from '../../shared/protocol/messages.js';
import { Replica } from '../../worker/replica.js';

export interface ScriptedWorker {
  readonly socket: WebSocket;
  shardsSeen: number;
  close(): void;
  closed: Promise<number>;
}

/**
 * How the scripted worker uses a shared-memory lane: none (sockets only), honestly, or `reuse-slot`: each result
 * goes out after its slot was written twice more, so the frame refers to data that is no longer there.
 */
export type ScriptedShm = 'none' | 'honest' | 'reuse-slot';

/**
 * Whether the scripted worker applies updates itself (messages.ts, Shard.update): no (it does not offer to), honestly,
 * or `skewed`: with a learning rate one part in a million off, as a worker applying another update rule would.
 */
export type ScriptedUpdates = 'none' | 'honest' | 'skewed';

/**
 * A real WebSocket client that speaks the protocol like a worker but lets the test decide what it answers:
 * `answer` gets the honest block sums of each shard and may alter them, or return null to stay silent.
 */
export function startScriptedWorker(
  url: string, answer: (blocks: BlockSum[], shard: Shard, layout: ParamLayout) => BlockSum[] | null, shm: ScriptedShm = 'none',
  updates: ScriptedUpdates = 'none',
): ScriptedWorker {
  const socket = new WebSocket(url);
  const lane = shm === 'none' ? null : ShmWriter.create();
  let coordinatorLane: ShmReader | null = null;
  let replica: Replica | null = null;
  const prefetched = new Map<number, ShardData>();
  const worker: ScriptedWorker = {
    socket, shardsSeen: 0,
    close: () => socket.terminate(),
    closed: new Promise((resolve) => socket.on('close', (code) => {
      lane?.close();
      coordinatorLane?.close();
      resolve(code);
    })),
  };
  socket.on('open', () => socket.send(encode({
    type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'scripted', kernel: 'js', ...(lane ? { shm: lane.offer } : {}),
    ...(updates === 'none' ? {} : { appliesUpdates: true }),
  })));
  socket.on('message', (bytes: Buffer) => {
    const message = decodeToWorker(bytes, replica?.computer ?? null, coordinatorLane);
    if (message.type === 'welcome') {
      if (message.shm) coordinatorLane = ShmReader.open(message.shm) as ShmReader;
      replica = Replica.forJob(null, message.sizes, jsGemm, message.cost, message.dtype);
    }
    if ((message.type === 'welcome' || message.type === 'params') && replica) replica.receive(message.version, message.weights, message.biases);
    if (message.type === 'samples') prefetched.set(message.shardId, message);
    if (message.type === 'shard' && replica) {
      worker.shardsSeen++;
      const data = message.x === null ? prefetched.get(message.shardId) : message;
      if (!data) throw new Error(`shard ${message.shardId} arrived without its samples`);
      prefetched.delete(message.shardId);
      const blocks = answer(replica.computer.compute(replica.views, message, data), message, replica.layout);
      if (blocks) {
        const result = {
          type: 'gradients', v: PROTOCOL_VERSION, step: message.step, shardId: message.shardId, version: message.version, blocks, computeMs: 1,
          ...(replica.ownSum === null ? {} : { paramsSum: replica.ownSum }),
        } as const;
        const frame = encodeVia(result, coordinatorLane ? lane : null);
        if (shm === 'reuse-slot' && lane) for (let i = 0; i < 2; i++) lane.externalize(result);
        socket.send(frame);
        if (message.update) {
          const eta = message.update.eta * (updates === 'skewed' ? 1 + 1e-6 : 1);
          replica.applyOwnUpdate({ ...message.update, eta }, message.batchSize, message.chunks, blocks, jsGemm);
        }
      }
    }
  });
  socket.on('error', () => undefined);
  return worker;
}
