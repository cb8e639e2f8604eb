/**
 * `nabla monitor`: follows a coordinator's feed and shows it as a full-screen dashboard (a terminal), one JSON
 * object per line (--json), or one short line every few seconds (anything else). Resolves with the exit code.
 */
import type { StatusSnapshot } from '../shared/protocol/status.js';
import { watchFeed, type FeedOptions, type FeedUpdate } from './client.js';
import { renderDashboard, type ConnectionView } from './dashboard.js';
import { summaryLine } from './summary-line.js';
import { TerminalScreen } from './terminal.js';

export type MonitorMode = 'dashboard' | 'plain' | 'json';

export interface MonitorConfig {
  feed: FeedOptions;
  mode: MonitorMode;
  /** Plain mode prints at most one summary line per this many ms. */
  plainEveryMs: number;
  color: boolean;
}

export interface MonitorIo {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

const processIo = (): MonitorIo => ({ stdout: process.stdout, stdin: process.stdin, stderr: process.stderr });

/** The dashboard on a terminal; plain lines when stdout is a pipe or a file; JSON when asked. */
export function chooseMode(isJson: boolean, stdoutIsTty: boolean): MonitorMode {
  if (isJson) return 'json';
  return stdoutIsTty ? 'dashboard' : 'plain';
}

/** Follows the feed in the chosen mode until training is done, the user quits, or the coordinator refuses us. */
export function runMonitor(config: MonitorConfig, io: MonitorIo = processIo()): Promise<number> {
  // A closed pipe (| head) ends the monitor quietly instead of crashing on EPIPE.
  io.stdout.on('error', () => process.exit(0));
  return config.mode === 'dashboard' ? runDashboard(config, io) : runLines(config, io);
}

function runLines(config: MonitorConfig, io: MonitorIo): Promise<number> {
  const isJson = config.mode === 'json';
  const write = (line: string): void => { io.stdout.write(`${line}\n`); };
  const event = (fields: Record<string, unknown>): void => write(JSON.stringify(fields));
  const url = config.feed.url;
  let last: StatusSnapshot | null = null;
  let lastPrintedMs = 0;
  let isPrintedLast = true;
  const printSummary = (): void => {
    if (last && !isPrintedLast) write(summaryLine(last));
    isPrintedLast = true;
    lastPrintedMs = Date.now();
  };
  return new Promise((resolve) => {
    watchFeed(config.feed, (update: FeedUpdate) => {
      switch (update.kind) {
        case 'connecting':
          if (update.attempt === 1) return isJson ? event({ event: 'connecting', url }) : write(`connecting to ${url}`);
          return;
        case 'connected':
          return isJson ? event({ event: 'connected', url }) : write(`connected to ${url}`);
        case 'status':
          last = update.snapshot;
          if (isJson) return event({ event: 'status', snapshot: update.snapshot });
          isPrintedLast = false;
          if (Date.now() - lastPrintedMs >= config.plainEveryMs || update.snapshot.progress.state === 'done') printSummary();
          return;
        case 'reconnecting':
          if (isJson) return event({ event: 'reconnecting', url, detail: update.detail, retryInMs: Math.round(update.retryInMs), attempt: update.attempt });
          return write(`coordinator at ${url}: ${update.detail}; reconnecting in ${(update.retryInMs / 1000).toFixed(1)} s (attempt ${update.attempt})`);
        case 'done':
          if (isJson) event({ event: 'done', reason: update.reason });
          else {
            printSummary();
            write(`training finished: ${update.reason}`);
          }
          return resolve(0);
        case 'refused':
        case 'gave-up':
          if (isJson) event({ event: update.kind, message: update.message });
          io.stderr.write(`nabla monitor: ${update.kind === 'refused' ? 'refused' : 'giving up'}: ${update.message}\n`);
          return resolve(1);
        case 'stopped':
          return resolve(0);
        default: {
          const unknown: never = update;
          return void unknown;
        }
      }
    });
  });
}

function runDashboard(config: MonitorConfig, io: MonitorIo): Promise<number> {
  const url = config.feed.url;
  let snapshot: StatusSnapshot | null = null;
  let connection: ConnectionView = { url, state: 'connecting' };
  let retry: { detail: string; atMs: number; attempt: number } | null = null;

  const connectionView = (): ConnectionView => {
    if (connection.state !== 'reconnecting' || !retry) return connection;
    const seconds = Math.ceil((retry.atMs - Date.now()) / 1000);
    return { ...connection, detail: `${retry.detail}; ${seconds > 0 ? `retrying in ${seconds} s` : 'retrying now'} (attempt ${retry.attempt})` };
  };

  return new Promise((resolve) => {
    let isFinished = false;
    const finish = (code: number, message?: string): void => {
      if (isFinished) return;
      isFinished = true;
      clearInterval(ticker);
      for (const [signal, handler] of signalHandlers) process.off(signal, handler);
      feed.stop();
      screen.stop();
      if (message) io.stderr.write(`${message}\n`);
      resolve(code);
    };
    const screen = new TerminalScreen(io.stdout, io.stdin,
      (size) => renderDashboard(snapshot, { ...size, connection: connectionView(), color: config.color }),
      () => finish(0));
    const signalHandlers: Array<[NodeJS.Signals, () => void]> = [
      ['SIGINT', () => finish(0)], ['SIGTERM', () => finish(143)], ['SIGHUP', () => finish(129)],
    ];
    for (const [signal, handler] of signalHandlers) process.on(signal, handler);
    // The retry countdown moves even when no snapshot arrives.
    const ticker = setInterval(() => screen.requestRedraw(), 1000);

    const feed = watchFeed(config.feed, (update: FeedUpdate) => {
      switch (update.kind) {
        case 'connecting':
          if (connection.state !== 'reconnecting') connection = { url, state: 'connecting' };
          break;
        case 'connected':
          connection = { url, state: 'connected' };
          retry = null;
          break;
        case 'status':
          snapshot = update.snapshot;
          break;
        case 'reconnecting':
          connection = { url, state: 'reconnecting' };
          retry = { detail: update.detail, atMs: Date.now() + update.retryInMs, attempt: update.attempt };
          break;
        case 'done':
          // Keep the final state on screen until the user quits.
          connection = { url, state: 'finished', detail: update.reason };
          clearInterval(ticker);
          break;
        case 'refused':
          return finish(1, `nabla monitor: refused: ${update.message}`);
        case 'gave-up':
          return finish(1, `nabla monitor: giving up: ${update.message}`);
        case 'stopped':
          return;
        default: {
          const unknown: never = update;
          return void unknown;
        }
      }
      screen.requestRedraw();
    });
    screen.start();
  });
}
