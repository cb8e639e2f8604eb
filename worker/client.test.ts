/**
 * The worker's side of the shared-memory handshake, against a scripted coordinator (a real WebSocket server in this
 * process): a welcome offering a lane the worker cannot read makes it leave and join again without offering its own,
 * and its lane is gone once it exits.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { roundingFingerprint } from '../shared/kernel/rounding-probe.js';
import { createLayout } from '../shared/network/layout.js';
import { decodeToCoordinator, encode, encodeVia } from '../shared/protocol/codec.js';
import { PROTOCOL_VERSION, type Hello } from '../shared/protocol/messages.js';
import { SHM_ROOT, ShmWriter } from '../shared/protocol/shm.js';
import { runWorker } from './client.js';

const layout = createLayout([2, 2]);

describe.skipIf(!existsSync(SHM_ROOT))('worker and shared memory', () => {
  it('rejoins without shared memory when the coordinator\'s lane is not readable, and removes its own lane', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const hellos: Hello[] = [];
    server.on('connection', (socket: WebSocket) => {
      socket.once('message', (bytes: Buffer) => {
        const hello = decodeToCoordinator(bytes, { layout, dtype: 'float64' }) as Hello;
        hellos.push(hello);
        if (hellos.length === 1) {
          socket.send(encode({
            type: 'welcome', v: PROTOCOL_VERSION, workerId: 'w1', pingIntervalMs: 1000, sizes: [2, 2], cost: 'quadratic', dtype: 'float64',
            version: 0, weights: new Float64Array(4), biases: new Float64Array(2),
            shm: { dir: `${SHM_ROOT}/nabla-1-1-${'0'.repeat(16)}`, nonce: 'not-there' },
          }));
        } else {
          socket.send(encode({ type: 'done', v: PROTOCOL_VERSION, reason: 'test over' }));
        }
      });
    });
    const log: string[] = [];
    const code = await runWorker({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, token: null, ca: null, insecureSkipVerify: false, name: 'test',
      gemm: jsGemm, shm: true, initialRetryMs: 10, maxRetryMs: 50, giveUpMs: 10_000, log: (line) => log.push(line),
    });
    server.close();
    expect(code).toBe(0);
    expect(hellos).toHaveLength(2);
    const offered = hellos[0].shm;
    expect(offered?.dir).toMatch(new RegExp(`^${SHM_ROOT}/nabla-\\d+-${process.pid}-[0-9a-f]{16}$`));
    expect(hellos[1].shm).toBeUndefined();
    expect(hellos[0].rounding, 'how its kernel rounds, for the coordinator to compare').toBe(roundingFingerprint(jsGemm));
    expect(log.join('\n')).toMatch(/the coordinator's shared memory is not readable here: cannot read .*nabla-1-1-0+ \(ENOENT\); rejoining without it/);
    expect(existsSync(offered?.dir as string)).toBe(false);
  });

  it('refuses a shared-memory reference outside a params frame (its lane buffers are reused after each params)', async () => {
    const lane = ShmWriter.create() as ShmWriter;
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (socket: WebSocket) => {
      socket.once('message', () => {
        socket.send(encode({
          type: 'welcome', v: PROTOCOL_VERSION, workerId: 'w1', pingIntervalMs: 1000, sizes: [2, 2], cost: 'quadratic', dtype: 'float64',
          version: 0, weights: new Float64Array(4), biases: new Float64Array(2), shm: lane.offer,
        }));
        // 4,096 samples of 2 inputs as float64: 64 KiB, so the lane carries them.
        socket.send(encodeVia({
          type: 'samples', v: PROTOCOL_VERSION, step: 0, shardId: 1, batchSize: 4096, chunks: 1, chunkStart: 0, chunkEnd: 1,
          x: new Float64Array(8192).fill(0.5), xDivisor: 1, labels: new Uint16Array(4096), y: null,
        }, lane));
      });
    });
    const log: string[] = [];
    const code = await runWorker({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, token: null, ca: null, insecureSkipVerify: false, name: 'test',
      gemm: jsGemm, shm: true, initialRetryMs: 10, maxRetryMs: 50, giveUpMs: 10_000, log: (line) => log.push(line),
    });
    server.close();
    lane.close();
    expect(code).toBe(1);
    expect(log.join('\n')).toContain('bad frame from coordinator (malformed: shared-memory references are allowed only in params frames, not in "samples")');
  });
});
