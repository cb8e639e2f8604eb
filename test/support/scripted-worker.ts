import { WebSocket } from 'ws';
import { jsGemm } from '../../shared/kernel/js-gemm.js';
import type { ParamLayout } from '../../shared/network/layout.js';
import { decodeToWorker, encode, encodeVia } from '../../shared/protocol/codec.js';
import { ShmReader, ShmWriter, SLOTS } from '../../shared/protocol/shm.js';
import { PROTOCOL_VERSION, type BlockSum, type PrefetchedSamples, type Shard } from '../../shared/protocol/messages.js';
import { Replica } from '../../worker/replica.js';

export interface ScriptedWorker {
  readonly socket: WebSocket;
  shardsSeen: number;
  close(): void;
  closed: Promise<number>;
}

/**
 * How the scripted worker uses a shared-memory lane: none (sockets only), honestly, or `reuse-slot`: each result
 * goes out after every slot was written once more (its own too), so the frame refers to data that is no longer there.
 */
export type ScriptedShm = 'none' | 'honest' | 'reuse-slot';

/**
 * Whether the scripted worker applies updates itself (messages.ts, Shard.update): null (it does not offer to), or
 * with `rule` honest or `skewed` (a learning rate one part in a million off, as a worker applying another update rule
 * would), and whether it then `runsAhead`: computes the next step from samples sent ahead and sends it before its
 * shard comes, as worker/client.ts does.
 */
export type ScriptedUpdates = { rule: 'honest' | 'skewed'; runsAhead: boolean } | null;

/**
 * A real WebSocket client that speaks the protocol like a worker but lets the test decide what it answers:
 * `answer` gets the honest block sums of each shard and may alter them, or return null to stay silent. `rounding`:
 * the kernel fingerprint its hello claims (none by default).
 */
export function startScriptedWorker(
  url: string, answer: (blocks: BlockSum[], shard: Shard, layout: ParamLayout) => BlockSum[] | null, shm: ScriptedShm = 'none',
  updates: ScriptedUpdates = null, rounding: string | null = null,
): ScriptedWorker {
  const socket = new WebSocket(url);
  const lane = shm === 'none' ? null : ShmWriter.create();
  let coordinatorLane: ShmReader | null = null;
  let replica: Replica | null = null;
  const prefetched = new Map<number, PrefetchedSamples>();
  // A result sent ahead of its shard: the shard's id and the block sums (the update adds them up when it comes).
  let ahead: { shardId: number; blocks: BlockSum[] } | null = null;
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
    type: 'hello', v: PROTOCOL_VERSION, role: 'worker', name: 'scripted', kernel: 'js', ...(rounding ? { rounding } : {}), ...(lane ? { shm: lane.offer } : {}),
    ...(updates ? { appliesUpdates: true } : {}),
  })));
  socket.on('message', (bytes: Buffer) => {
    const message = decodeToWorker(bytes, replica?.computer ?? null, coordinatorLane);
    if (message.type === 'welcome') {
      if (message.shm) coordinatorLane = ShmReader.open(message.shm) as ShmReader;
      replica = Replica.forJob(null, message.sizes, jsGemm, message.cost, message.dtype);
    }
    if ((message.type === 'welcome' || message.type === 'params') && replica) {
      replica.receive(message.version, message.weights, message.biases);
      ahead = null;
    }
    if (message.type === 'samples') prefetched.set(message.shardId, message);
    if (message.type === 'shard' && replica) {
      worker.shardsSeen++;
      const data = message.x === null ? prefetched.get(message.shardId) : message;
      if (!data) throw new Error(`shard ${message.shardId} arrived without its samples`);
      prefetched.delete(message.shardId);
      const early = ahead?.shardId === message.shardId ? ahead.blocks : null;
      ahead = null;
      const blocks = early ?? answer(replica.computer.compute(replica.views, message, data), message, replica.layout);
      if (!blocks) return;
      if (!early) send(message, blocks, replica);
      if (message.update && updates) {
        const eta = message.update.eta * (updates.rule === 'skewed' ? 1 + 1e-6 : 1);
        replica.applyOwnUpdate({ ...message.update, eta }, message.batchSize, message.chunks, blocks, jsGemm);
        const next = [...prefetched.values()].find((samples) => samples.step === message.step + 1 && samples.chunkStart === 0 && samples.chunkEnd === samples.chunks);
        if (updates.runsAhead && next) {
          ahead = { shardId: next.shardId, blocks: replica.computer.compute(replica.views, next, next) };
          send(next, ahead.blocks, replica);
        }
      }
    }
  });

  function send(shard: { step: number; shardId: number }, blocks: BlockSum[], state: Replica): void {
    const result = {
      type: 'gradients', v: PROTOCOL_VERSION, step: shard.step, shardId: shard.shardId, version: state.version, blocks, computeMs: 1,
      ...(state.ownSum === null ? {} : { paramsSum: state.ownSum }),
    } as const;
    const frame = encodeVia(result, coordinatorLane ? lane : null);
    if (shm === 'reuse-slot' && lane) for (let i = 0; i < SLOTS; i++) lane.externalize(result);
    socket.send(frame);
  }
  socket.on('error', () => undefined);
  return worker;
}
