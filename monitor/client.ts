/**
 * The monitor's connection to a coordinator: open it (token handshake included), say hello as a read-only
 * monitor, validate every frame, and reconnect with backoff whenever the link is lost, until training is done.
 */
import type { RawData, WebSocket } from 'ws';
import { endBy, onUpgradeRefused, openSocket, UpgradeRefused, type CoordinatorEnd } from '../shared/connect.js';
import { encode } from '../shared/protocol/codec.js';
import { ProtocolError } from '../shared/protocol/errors.js';
import { assertNever, CloseCode, PROTOCOL_VERSION, type ToMonitor } from '../shared/protocol/messages.js';
import { decodeToMonitor } from '../shared/protocol/monitor-validate.js';
import type { StatusSnapshot } from '../shared/protocol/status.js';

export interface FeedOptions {
  url: string;
  token: string | null;
  ca: string | null;
  insecureSkipVerify: boolean;
  /** Shown in the coordinator's log for this monitor. */
  name: string;
  /** First retry delay; doubles up to maxRetryMs while the coordinator cannot be reached. */
  initialRetryMs: number;
  maxRetryMs: number;
  /** Give up after this long without reaching a coordinator (0: never). */
  giveUpMs: number;
  /** A link that carries nothing (no status, no ping) for this long is presumed dead and reopened. */
  silenceTimeoutMs: number;
}

/** What the feed reports, in order; the view draws from these. */
export type FeedUpdate =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'connected' }
  | { kind: 'status'; snapshot: StatusSnapshot }
  | { kind: 'reconnecting'; detail: string; retryInMs: number; attempt: number }
  | FeedEnd;

/** How a feed ends: training finished, the coordinator refused us (wrong token, other version), we gave up, or stop(). */
export type FeedEnd =
  | CoordinatorEnd
  | { kind: 'gave-up'; message: string }
  | { kind: 'stopped' };

/** Largest frame a monitor accepts: a snapshot of thousands of workers with full histories fits easily. */
const MAX_STATUS_BYTES = 16 << 20;

export interface Feed {
  /** Resolves once, with how the feed ended (also delivered as the last update). */
  readonly ended: Promise<FeedEnd>;
  /** Closes the link and stops reconnecting; `ended` resolves with { kind: 'stopped' }. */
  stop(): void;
}

type SessionEnd = FeedEnd | { kind: 'lost'; detail: string; hadStatus: boolean };

/** Follows the coordinator's feed, reconnecting on its own, and calls `onUpdate` for everything that happens. */
export function watchFeed(options: FeedOptions, onUpdate: (update: FeedUpdate) => void): Feed {
  let isStopped = false;
  let current: WebSocket | null = null;
  let wakeUp: (() => void) | null = null;

  const loop = async (): Promise<FeedEnd> => {
    let delayMs = options.initialRetryMs;
    let unreachableSinceMs = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (isStopped) return { kind: 'stopped' };
      onUpdate({ kind: 'connecting', attempt });
      const end = await session(options, onUpdate, (socket) => { current = socket; });
      current = null;
      if (isStopped) return { kind: 'stopped' };
      if (end.kind !== 'lost') return end;
      if (end.hadStatus) {
        delayMs = options.initialRetryMs;
        unreachableSinceMs = Date.now();
      }
      if (options.giveUpMs > 0 && Date.now() - unreachableSinceMs > options.giveUpMs) {
        return { kind: 'gave-up', message: `no coordinator at ${options.url} for ${Math.round(options.giveUpMs / 1000)} s (${end.detail})` };
      }
      const retryInMs = delayMs * (0.8 + 0.4 * Math.random());
      onUpdate({ kind: 'reconnecting', detail: end.detail, retryInMs, attempt });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryInMs);
        wakeUp = () => { clearTimeout(timer); resolve(); };
      });
      wakeUp = null;
      delayMs = Math.min(options.maxRetryMs, delayMs * 2);
    }
  };

  const ended = loop().then((end) => {
    onUpdate(end);
    return end;
  });
  return {
    ended,
    stop() {
      isStopped = true;
      current?.close(CloseCode.normal, 'monitor closed');
      current?.terminate();
      wakeUp?.();
    },
  };
}

/** One connection, from open to close. */
async function session(options: FeedOptions, onUpdate: (update: FeedUpdate) => void, track: (socket: WebSocket) => void): Promise<SessionEnd> {
  let socket: WebSocket;
  try {
    socket = await openSocket({ ...options, role: 'monitor', maxPayloadBytes: MAX_STATUS_BYTES });
  } catch (error) {
    if (error instanceof UpgradeRefused) return { kind: 'refused', message: error.message };
    return { kind: 'lost', hadStatus: false, detail: describeError(error) };
  }
  track(socket);
  return new Promise((resolve) => {
    let ending: SessionEnd | null = null;
    let hadStatus = false;
    const finish = (end: SessionEnd): void => { ending ??= end; };
    let silence: NodeJS.Timeout | null = null;
    const heard = (): void => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => {
        finish({ kind: 'lost', hadStatus, detail: `nothing heard for ${options.silenceTimeoutMs / 1000} s` });
        socket.terminate();
      }, options.silenceTimeoutMs);
    };

    socket.on('open', () => {
      heard();
      socket.send(encode({ type: 'hello', v: PROTOCOL_VERSION, role: 'monitor', name: options.name, kernel: 'none' }));
      onUpdate({ kind: 'connected' });
    });
    socket.on('ping', heard);
    socket.on('message', (bytes: RawData, isBinary: boolean) => {
      heard();
      let message: ToMonitor;
      try {
        if (!isBinary) throw new ProtocolError('malformed', 'a text frame is not part of the protocol');
        message = decodeToMonitor(bytes as Buffer);
      } catch (error) {
        const detail = error instanceof ProtocolError ? `${error.code}: ${error.message}` : String(error);
        finish({ kind: 'refused', message: `bad frame from the coordinator (${detail})` });
        socket.close(CloseCode.protocolError, 'bad frame');
        return;
      }
      switch (message.type) {
        case 'status':
          hadStatus = true;
          onUpdate({ kind: 'status', snapshot: message.snapshot });
          return;
        case 'done':
        case 'failure':
          finish(endBy(message, socket));
          return;
        default:
          assertNever(message);
      }
    });
    onUpgradeRefused(socket, (message) => finish({ kind: 'refused', message }));
    socket.on('error', (error) => finish({ kind: 'lost', hadStatus, detail: describeError(error) }));
    socket.on('close', (code, reason) => {
      if (silence) clearTimeout(silence);
      resolve(ending ?? { kind: 'lost', hadStatus, detail: `connection closed (code ${code}${reason.length ? `, ${reason.toString()}` : ''})` });
    });
  });
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  return code ?? (error as Error).message;
}
