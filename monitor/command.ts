import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { usage } from '../shared/usage-error.js';
import { chooseMode, runMonitor } from './run.js';

interface MonitorArgs {
  connect: string;
  token?: string;
  ca?: string;
  insecureSkipVerify: boolean;
  json: boolean;
  giveUpAfter: number;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return usage(`--ca ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** `nabla monitor`: watch a running coordinator (read-only); a dashboard on a terminal, lines or JSON otherwise. */
export const monitorCommand = {
  command: 'monitor',
  describe: 'Watch a coordinator: live dashboard of progress, throughput, workers and accuracy (read-only)',
  builder: (y: Argv) => y
    .option('connect', { type: 'string', demandOption: true, describe: 'Coordinator URL, ws://HOST:PORT' })
    .option('token', { type: 'string', describe: 'The coordinator\'s shared secret (env NABLA_TOKEN); proven by HMAC, never sent' })
    .option('ca', { type: 'string', describe: 'PEM CA certificate to trust for wss:// (e.g. the coordinator\'s self-signed certificate)' })
    .option('insecure-skip-verify', { type: 'boolean', default: false, describe: 'Do not verify the coordinator\'s TLS certificate (testing only)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print every snapshot as one JSON object per line instead of the dashboard' })
    .option('give-up-after', { type: 'number', default: 0, describe: 'Exit 1 after this many seconds without reaching a coordinator (0: keep retrying)' })
    .example('$0 monitor --connect ws://10.0.0.5:8080', 'full-screen dashboard; q quits')
    .example('$0 monitor --connect ws://10.0.0.5:8080 --json | jq -c .snapshot.progress', 'one JSON object per snapshot')
    .example('$0 monitor --connect ws://10.0.0.5:8080 > run.log', 'not a terminal: one summary line every 2 s'),
  handler: async (args: MonitorArgs) => {
    if (!/^wss?:\/\/[^/\s]+/.test(args.connect)) usage(`--connect must be a ws:// or wss:// URL such as ws://10.0.0.5:8080, got "${args.connect}"`);
    if (!(Number.isFinite(args.giveUpAfter) && args.giveUpAfter >= 0)) usage(`--give-up-after must be a number of seconds (0: keep retrying), got ${args.giveUpAfter}`);
    process.exitCode = await runMonitor({
      feed: {
        url: args.connect, token: args.token ?? null, ca: args.ca ? readCa(args.ca) : null, insecureSkipVerify: args.insecureSkipVerify,
        name: `monitor ${hostname()}/${process.pid}`, initialRetryMs: 200, maxRetryMs: 5000, giveUpMs: args.giveUpAfter * 1000, silenceTimeoutMs: 15_000,
      },
      mode: chooseMode(args.json, Boolean(process.stdout.isTTY)),
      plainEveryMs: 2000,
      color: !process.env.NO_COLOR,
    });
  },
};
