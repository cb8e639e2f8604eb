import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { KERNEL_CHOICES, selectGemm, type KernelChoice } from '../shared/kernel/select.js';
import { usage } from '../shared/usage-error.js';
import { defaultWorkerName, runWorker } from './client.js';

interface WorkerArgs {
  connect: string;
  name?: string;
  kernel: string;
  giveUpAfter: number;
  token?: string;
  ca?: string;
  insecureSkipVerify: boolean;
  shm: boolean;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return usage(`--ca ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export const workerCommand = {
  command: 'worker',
  describe: 'Join a coordinator and compute gradients for it',
  builder: (y: Argv) => y
    .option('connect', { type: 'string', demandOption: true, describe: 'Coordinator URL, ws://HOST:PORT' })
    .option('name', { type: 'string', describe: 'Name shown by the coordinator (default: host/pid)' })
    .option('kernel', { type: 'string', default: 'auto', choices: KERNEL_CHOICES, describe: 'Matrix kernel: OpenBLAS when available (auto), or plain JS (the same bits on every machine; OpenBLAS rounds per CPU family unless every worker sets one OPENBLAS_CORETYPE)' })
    .option('token', { type: 'string', describe: 'The coordinator\'s shared secret (env NABLA_TOKEN); proven by HMAC, never sent' })
    .option('ca', { type: 'string', describe: 'PEM CA certificate to trust for wss:// (e.g. the coordinator\'s self-signed certificate)' })
    .option('insecure-skip-verify', { type: 'boolean', default: false, describe: 'Do not verify the coordinator\'s TLS certificate (testing only)' })
    .option('shm', { type: 'boolean', default: true, describe: 'Offer the coordinator a shared-memory lane (/dev/shm) for parameters and gradients; used only when it runs on this host. --no-shm: socket only' })
    .option('give-up-after', { type: 'number', default: 0, describe: 'Exit 1 after this many seconds without reaching a coordinator (0: keep retrying)' })
    .example('$0 worker --connect ws://10.0.0.5:8080', 'join the coordinator on 10.0.0.5'),
  handler: async (args: WorkerArgs) => {
    if (!/^wss?:\/\/[^/\s]+/.test(args.connect)) usage(`--connect must be a ws:// or wss:// URL such as ws://10.0.0.5:8080, got "${args.connect}"`);
    if (!KERNEL_CHOICES.includes(args.kernel as KernelChoice)) usage(`--kernel must be one of ${KERNEL_CHOICES.join(', ')}`);
    const gemm = selectGemm(args.kernel as KernelChoice);
    // `docker stop` and service managers send SIGTERM: leave at once (the coordinator re-issues any shard we held).
    process.once('SIGTERM', () => process.exit(143));
    process.once('SIGINT', () => process.exit(130)); // exit handlers remove our shared-memory lane
    process.exitCode = await runWorker({
      url: args.connect, token: args.token ?? null, ca: args.ca ? readCa(args.ca) : null, insecureSkipVerify: args.insecureSkipVerify, name: args.name ?? defaultWorkerName(), gemm,
      shm: args.shm, initialRetryMs: 200, maxRetryMs: 5000, giveUpMs: args.giveUpAfter * 1000,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  },
};
