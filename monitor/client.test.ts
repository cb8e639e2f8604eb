import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { encode } from '../shared/protocol/codec.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import { watchFeed, type FeedOptions, type FeedUpdate } from './client.js';
import { fixtureSnapshot } from './snapshot-fixture.js';

const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

/** A stand-in coordinator: answers each hello with `onHello(socket)`; can be stopped and restarted on its port. */
class FakeCoordinator {
  private http!: Server;
  private wss!: WebSocketServer;
  readonly hellos: unknown[] = [];
  port = 0;

  constructor(private readonly onHello: (socket: WebSocket) => void) {}

  async start(port = 0): Promise<void> {
    this.http = createServer();
    this.wss = new WebSocketServer({ server: this.http });
    this.wss.on('connection', (socket) => socket.on('message', (bytes: Buffer) => {
      this.hellos.push(packr.unpack(bytes));
      this.onHello(socket);
    }));
    await new Promise<void>((resolve) => this.http.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

const status = encode({ type: 'status', v: PROTOCOL_VERSION, snapshot: fixtureSnapshot() });
const options = (port: number, overrides: Partial<FeedOptions> = {}): FeedOptions => ({
  url: `ws://127.0.0.1:${port}`, token: null, ca: null, insecureSkipVerify: false, name: 'test monitor',
  initialRetryMs: 20, maxRetryMs: 100, giveUpMs: 0, silenceTimeoutMs: 5000, ...overrides,
});

const servers: FakeCoordinator[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop().catch(() => undefined);
});

async function fake(onHello: (socket: WebSocket) => void): Promise<FakeCoordinator> {
  const server = new FakeCoordinator(onHello);
  await server.start();
  servers.push(server);
  return server;
}

function waitFor(updates: FeedUpdate[], predicate: (update: FeedUpdate) => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (updates.some(predicate)) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out; updates: ${updates.map((u) => u.kind).join(', ')}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

describe('watchFeed', () => {
  it('says hello as a read-only monitor and delivers validated snapshots', async () => {
    const server = await fake((socket) => socket.send(status));
    const updates: FeedUpdate[] = [];
    const feed = watchFeed(options(server.port), (update) => updates.push(update));
    await waitFor(updates, (u) => u.kind === 'status');
    expect(server.hellos[0]).toEqual({ type: 'hello', v: PROTOCOL_VERSION, role: 'monitor', name: 'test monitor', kernel: 'none' });
    expect(updates.find((u) => u.kind === 'status')).toEqual({ kind: 'status', snapshot: fixtureSnapshot() });
    feed.stop();
    expect(await feed.ended).toEqual({ kind: 'stopped' });
  });

  it('reconnects on its own when the coordinator restarts, saying so, and ends on done', async () => {
    let isSecondLife = false;
    const server = await fake((socket) => {
      socket.send(status);
      if (isSecondLife) socket.send(encode({ type: 'done', v: PROTOCOL_VERSION, reason: 'training finished' }));
    });
    const updates: FeedUpdate[] = [];
    const feed = watchFeed(options(server.port), (update) => updates.push(update));
    await waitFor(updates, (u) => u.kind === 'status');
    await server.stop();
    await waitFor(updates, (u) => u.kind === 'reconnecting');
    isSecondLife = true;
    await server.start(server.port);
    expect(await feed.ended).toEqual({ kind: 'done', reason: 'training finished' });
    const kinds = updates.map((u) => u.kind);
    expect(kinds.filter((kind) => kind === 'status')).toHaveLength(2);
    expect(kinds.indexOf('reconnecting')).toBeGreaterThan(kinds.indexOf('status'));
    expect(kinds.at(-1)).toBe('done');
  });

  it('backs off while the coordinator stays away, and gives up when told to', async () => {
    const server = await fake(() => undefined);
    const port = server.port;
    await server.stop();
    servers.pop();
    const updates: FeedUpdate[] = [];
    const feed = watchFeed(options(port, { initialRetryMs: 10, maxRetryMs: 40, giveUpMs: 300 }), (update) => updates.push(update));
    const end = await feed.ended;
    expect(end.kind).toBe('gave-up');
    const delays = updates.flatMap((u) => (u.kind === 'reconnecting' ? [u.retryInMs] : []));
    expect(delays.length).toBeGreaterThan(2);
    expect(delays[0]).toBeLessThan(15);
    expect(Math.max(...delays)).toBeLessThanOrEqual(40 * 1.2);
    expect(updates.find((u) => u.kind === 'reconnecting')).toMatchObject({ detail: 'connection refused' });
  });

  it('stops at once while waiting to retry', async () => {
    const updates: FeedUpdate[] = [];
    const feed = watchFeed(options(1, { initialRetryMs: 60_000 }), (update) => updates.push(update));
    await waitFor(updates, (u) => u.kind === 'reconnecting');
    const started = Date.now();
    feed.stop();
    expect(await feed.ended).toEqual({ kind: 'stopped' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ends, without retrying, when the coordinator refuses it or sends a bad frame', async () => {
    const refusing = await fake((socket) => socket.send(encode({ type: 'failure', v: PROTOCOL_VERSION, code: 'version-mismatch', message: 'upgrade' })));
    expect(await watchFeed(options(refusing.port), () => undefined).ended).toEqual({ kind: 'refused', message: 'version-mismatch: upgrade' });
    const garbling = await fake((socket) => socket.send(packr.pack({ type: 'status', v: PROTOCOL_VERSION, snapshot: { ...fixtureSnapshot(), workers: 3 } })));
    const end = await watchFeed(options(garbling.port), () => undefined).ended;
    expect(end).toEqual({ kind: 'refused', message: 'bad frame from the coordinator (bad-field: snapshot.workers must be an array, got number)' });
  });

  it('reopens a link that has gone silent', async () => {
    let hellos = 0;
    const server = await fake((socket) => {
      hellos++;
      socket.send(status); // then nothing: no more snapshots, no pings
    });
    const updates: FeedUpdate[] = [];
    const feed = watchFeed(options(server.port, { silenceTimeoutMs: 150 }), (update) => updates.push(update));
    await waitFor(updates, (u) => u.kind === 'reconnecting' && u.detail === 'nothing heard for 0.15 s');
    await waitFor(updates, () => hellos >= 2);
    feed.stop();
    await feed.ended;
  });
});
