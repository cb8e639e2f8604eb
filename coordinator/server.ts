import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { NONCE_PATH, NonceStore, verifyAuthorization, type Role } from '../shared/auth.js';

export interface ServerOptions {
  host: string;
  port: number;
  /** PEM certificate and key for wss://; null serves plain ws://. */
  tls: { cert: string; key: string } | null;
  /** Shared secret clients must prove (HMAC over a nonce) during the upgrade; null accepts anyone. */
  token: string | null;
  /** Connections beyond this are refused at the upgrade (503). */
  maxConnections: number;
  maxPayloadBytes: number;
  /** The body of GET /healthz. */
  health: () => Record<string, unknown>;
  /** A connection that passed the upgrade, with the role its token handshake proved (null without a token). */
  onConnection: (socket: WebSocket, request: IncomingMessage, provenRole: Role | null) => void;
  /** An upgrade refused before any frame: who, and why. */
  onRefused: (address: string, reason: string) => void;
}

export interface CoordinatorServer {
  readonly port: number;
  readonly clients: Set<WebSocket>;
  close(): Promise<void>;
}

/**
 * The coordinator's listening side: HTTP(S) with a health check and auth nonces, and the WebSocket upgrade, where
 * connections beyond the cap and clients without a valid token are refused before a single frame is read.
 */
export async function startServer(options: ServerOptions): Promise<CoordinatorServer> {
  const nonces = new NonceStore();
  const provenRoles = new WeakMap<IncomingMessage, Role>();
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const json = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    };
    if (request.url === '/healthz') return json(200, { ok: true, ...options.health() });
    if (request.url === NONCE_PATH && request.method === 'GET') return json(200, { nonce: nonces.issue() });
    response.writeHead(426, { 'content-type': 'text/plain' }).end('nabla coordinator: connect with a WebSocket client (nabla worker)\n');
  };
  const server: Server = options.tls ? createTlsServer(options.tls, onRequest) : createServer(onRequest);

  /** Why an upgrade request is refused, or null to accept it. */
  const refusalOf = (request: IncomingMessage): { status: number; reason: string } | null => {
    if (wss.clients.size >= options.maxConnections) return { status: 503, reason: `too many connections (limit ${options.maxConnections})` };
    if (options.token === null) return null;
    const verdict = verifyAuthorization(request.headers.authorization, options.token, nonces);
    if ('failure' in verdict) return { status: 401, reason: verdict.failure };
    provenRoles.set(request, verdict.role);
    return null;
  };
  const wss: WebSocketServer = new WebSocketServer({
    server,
    maxPayload: options.maxPayloadBytes,
    perMessageDeflate: false,
    verifyClient: (info, callback) => {
      const refusal = refusalOf(info.req);
      if (refusal === null) return callback(true);
      options.onRefused(`${info.req.socket.remoteAddress ?? '?'}:${info.req.socket.remotePort ?? '?'}`, refusal.reason);
      callback(false, refusal.status, refusal.reason);
    },
  });
  wss.on('connection', (socket, request) => options.onConnection(socket, request, provenRoles.get(request) ?? null));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    clients: wss.clients,
    async close() {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
