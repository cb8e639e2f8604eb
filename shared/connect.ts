import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { WebSocket } from 'ws';
import { authorizationHeader, NONCE_PATH, type Role } from './auth.js';
import { CloseCode, type Done, type Failure } from './protocol/messages.js';

/**
 * Opening a connection to a coordinator, shared by workers and monitors (the one place in shared/ that touches a
 * socket: both clients must do the token handshake identically).
 */
export interface ConnectOptions {
  url: string;
  role: Role;
  /** Shared secret proven with an HMAC over a coordinator nonce; null when the coordinator needs none. */
  token: string | null;
  /** PEM CA certificate(s) to trust for wss:// (a self-signed coordinator certificate, say). */
  ca: string | null;
  /** Skip certificate verification (testing only). */
  insecureSkipVerify: boolean;
  maxPayloadBytes: number;
}

/** A refusal by the coordinator during the upgrade (401 wrong token, 503 full): retrying will not help. */
export class UpgradeRefused extends Error {
  constructor(readonly status: number, reason: string) {
    super(`the coordinator refused the connection: ${status} ${reason}`);
  }
}

/** Opens the WebSocket, first fetching a nonce and proving the token when there is one. */
export async function openSocket(options: ConnectOptions): Promise<WebSocket> {
  const tls = { ca: options.ca ?? undefined, rejectUnauthorized: !options.insecureSkipVerify };
  const headers: Record<string, string> = {};
  if (options.token !== null) {
    const nonce = await fetchNonce(options.url, tls);
    headers.authorization = authorizationHeader(options.token, options.role, nonce);
  }
  return new WebSocket(options.url, { perMessageDeflate: false, maxPayload: options.maxPayloadBytes, headers, ...tls });
}

function fetchNonce(url: string, tls: { ca?: string; rejectUnauthorized: boolean }): Promise<string> {
  const httpUrl = new URL(NONCE_PATH, url.replace(/^ws/, 'http'));
  const get = httpUrl.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(httpUrl, { ...tls, timeout: 10_000 }, (response: IncomingMessage) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
        try {
          const nonce = (JSON.parse(body) as { nonce?: unknown }).nonce;
          if (response.statusCode === 200 && typeof nonce === 'string') return resolve(nonce);
        } catch {
          // fall through: not a nabla coordinator
        }
        reject(new UpgradeRefused(response.statusCode ?? 0, `no auth nonce at ${httpUrl.href}; is this a nabla coordinator of the same version?`));
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out fetching an auth nonce')));
    request.on('error', reject);
  });
}

/**
 * Calls `refused` with a readable message when the coordinator answers the upgrade with an HTTP error (401 wrong
 * token, 503 full) — final, so clients say why instead of retrying forever — and closes the socket.
 */
export function onUpgradeRefused(socket: WebSocket, refused: (message: string) => void): void {
  socket.on('unexpected-response', (_request, response) => {
    let body = '';
    response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
      refused(new UpgradeRefused(response.statusCode ?? 0, body.trim() || (response.statusMessage ?? '')).message);
      socket.terminate();
    });
  });
}

/** How a session ends when the coordinator says so: training is over, or this client was refused. */
export type CoordinatorEnd = { kind: 'done'; reason: string } | { kind: 'refused'; message: string };

/** Closes the socket after a `done` or `failure` from the coordinator and says how the session ended. */
export function endBy(message: Done | Failure, socket: WebSocket): CoordinatorEnd {
  if (message.type === 'done') {
    socket.close(CloseCode.normal, 'done');
    return { kind: 'done', reason: message.reason };
  }
  socket.close(CloseCode.normal, 'refused');
  return { kind: 'refused', message: `${message.code}: ${message.message}` };
}
