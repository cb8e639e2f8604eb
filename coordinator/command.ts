import { availableParallelism } from 'node:os';
import type { Argv } from 'yargs';
import { MIXED_KERNELS } from './cluster.js';
import { parseChunks, toTrainingConfig, type TrainingArgs } from './config.js';
import { runTraining } from './run.js';
import { runVerify } from './verify.js';
import { ETA_SCHEDULES } from './plateau.js';
import { COST_NAMES } from '../shared/network/cost.js';
import { DTYPES } from '../shared/kernel/dtype.js';
import { KERNEL_CHOICES } from '../shared/kernel/select.js';
import { usage } from '../shared/usage-error.js';
import { DEFAULT_CHECK_TOLERANCE } from './reference/compare.js';

/** Default epochs: the book's 30, about a minute for the bundled digits on a 2-core machine (test accuracy ≈ 0.93). */
export const DEFAULT_EPOCHS = 30;

/** Options every training run takes, whether its workers are local or remote. */
function trainingOptions<T>(y: Argv<T>, listenDefault: string) {
  return y
    .option('data', { type: 'string', default: 'mnist', describe: 'Training data: mnist (bundled digits), idx:DIR, csv:FILE, ndjson:FILE, or csv:- / ndjson:- (stdin)' })
    .option('test', { type: 'string', describe: 'Test data (same forms); default: the test split that comes with --data, if any' })
    .option('sizes', { type: 'string', default: '784,30,10', describe: 'Layer sizes, input first, e.g. 784,30,10' })
    .option('epochs', { type: 'number', default: DEFAULT_EPOCHS, describe: 'Passes over the training data' })
    .option('batch', { type: 'number', default: 10, describe: 'Mini-batch size m (the last mini-batch of an epoch may be smaller)' })
    .option('eta', { type: 'number', default: 3, describe: 'Learning rate η; each step applies w ← w − (η/m)·Σ∇w' })
    .option('seed', { type: 'number', default: 1, describe: 'Seed for the initial weights and the shuffle' })
    .option('shuffle', { type: 'boolean', default: true, describe: 'Shuffle each epoch (--no-shuffle: consecutive rows in input order)' })
    .option('init', { type: 'string', default: 'standard', describe: 'Initial weights: standard (the seed\'s N(0,1)), scaled (network2\'s N(0,1/n_in)), or a model FILE to start from' })
    .option('cost', { type: 'string', default: 'quadratic', choices: COST_NAMES, describe: 'Cost: the seed\'s quadratic, or cross-entropy (BP1 becomes δ = a − y: no learning slowdown)' })
    .option('lambda', { type: 'number', default: 0, describe: 'L2 regularisation λ: weights scale by 1 − ηλ/n every step (n = training samples)' })
    .option('eta-schedule', { type: 'string', default: 'constant', choices: ETA_SCHEDULES, describe: 'halve-on-plateau: halve η after --plateau epochs without a better test accuracy; stop when η would fall to η₀/128' })
    .option('plateau', { type: 'number', default: 5, describe: 'Epochs without a better test accuracy before halve-on-plateau halves η' })
    .option('stop-after', { type: 'number', default: 0, describe: 'Stop after N epochs without a better test accuracy (early stopping; 0: never)' })
    .option('save', { type: 'string', describe: 'Write the final model to this file (JSON, the seed\'s orientation)' })
    .option('save-best', { type: 'string', describe: 'After every epoch with a better test accuracy than all before it, write that model to this file (the best of the run, also when training stops early)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print events as JSON lines on stdout' })
    .option('kernel', { type: 'string', default: 'auto', choices: KERNEL_CHOICES, describe: 'Matrix kernel for evaluation and local workers: OpenBLAS when available (auto), or plain JS' })
    .option('dtype', { type: 'string', default: 'float64', choices: DTYPES, describe: 'What workers compute in and send: float64 (the seed\'s numbers) or float32 (half the bytes, about 1.5× the samples/s in npm run bench; agrees with float64 to float32 precision, still bit-identical for any worker count)' })
    .option('shm', { type: 'boolean', default: true, describe: 'Move parameters and gradients through shared memory (/dev/shm) with workers on this host instead of their sockets; --no-shm: sockets only. Same bits either way' })
    .option('fan-out', { type: 'string', default: 'auto', describe: 'Workers per step: auto measures which number finishes steps sooner (for small mini-batches, fewer workers may), all uses every worker, N uses the N quickest. The results are the same bits either way' })
    .option('mixed-kernels', { type: 'string', default: 'warn', choices: MIXED_KERNELS, describe: 'Workers whose kernel rounds differently from the first one to join (another CPU family under OpenBLAS, say): warn once and use them, or refuse them so every result keeps the same bits' })
    .option('chunks', { type: 'string', default: 'auto', describe: 'Fixed chunks per mini-batch, reduced in a fixed tree: results are bit-identical for any worker count; at most that many workers per step. Fewer: a faster kernel on small batches, other bits. auto: 1, 2, 4 or 8, chunks of at least 4 samples (--resume: the checkpoint\'s)' })
    .option('listen', { type: 'string', default: listenDefault, describe: 'HOST:PORT to listen on for workers; port 0 picks a free port' })
    .option('heartbeat-timeout', { type: 'number', default: 30, describe: 'Seconds of silence after which a worker is presumed dead and its work re-issued' })
    .option('shard-timeout', { type: 'number', default: 60, describe: 'Seconds a worker may hold a shard before it is dropped and the shard re-issued' })
    .option('max-connections', { type: 'number', default: 256, describe: 'Refuse connections beyond this many' })
    .option('min-workers', { type: 'number', default: 1, describe: 'Workers to wait for before the first step (more may join later)' })
    .option('checkpoint-dir', { type: 'string', describe: 'Write checkpoints (atomic, checksummed) to this directory' })
    .option('checkpoint-every', { type: 'number', default: 100, describe: 'Steps between checkpoints (one is also written at the end)' })
    .option('keep-checkpoints', { type: 'number', default: 3, describe: 'How many of the newest checkpoints to keep' })
    .option('shuffle-buffer', { type: 'number', default: 0, describe: 'Stream the data through a seeded shuffle buffer of N samples (0: in memory with a full shuffle when it fits under --memory-limit)' })
    .option('memory-limit', { type: 'number', default: 1024, describe: 'MiB of training data held in memory before streaming it instead' })
    .option('cache', { type: 'boolean', default: false, describe: 'Keep a one-pass source (csv:- on stdin) in memory so it can be trained for several epochs' })
    .option('skip-bad-rows', { type: 'boolean', default: false, describe: 'Skip malformed CSV/NDJSON rows (counted in the summary) instead of stopping' })
    .option('report', { type: 'string', describe: 'At the end, write an HTML report (cost and accuracy curves, throughput, step time, workers) to this file' })
    .option('prefetch', { type: 'string', default: 'auto', describe: 'Steps whose samples are sent to workers ahead of time (0: with each step; auto: 4)' })
    .option('token', { type: 'string', describe: 'Shared secret workers must prove (HMAC; never sent); env NABLA_TOKEN. Required unless --listen is loopback' })
    .option('insecure', { type: 'boolean', default: false, describe: 'Listen beyond loopback without a token (trusted networks only)' })
    .option('tls-cert', { type: 'string', describe: 'PEM certificate: serve wss:// (with --tls-key)' })
    .option('tls-key', { type: 'string', describe: 'PEM private key for --tls-cert' })
    .option('check-every', { type: 'string', default: 'auto', describe: 'Recompute the first step and then every N-th step with TF.js autodiff and compare (0: off); auto: at most every 100th, as often as keeps the checks within 2% of the training time' })
    .option('check-tolerance', { type: 'number', default: DEFAULT_CHECK_TOLERANCE, describe: 'Largest relative error accepted by the reference check (TF.js is float32)' })
    .option('on-mismatch', { type: 'string', default: 'stop', choices: ['stop', 'warn'], describe: 'What a failed reference check does' })
    .option('resume', { type: 'boolean', default: false, describe: 'Continue from the newest valid checkpoint in --checkpoint-dir (bit-identical to an uninterrupted run)' });
}

/** Local workers are processes of this machine: plenty for trying a cluster of many, not so many that a typo exhausts it. */
const MAX_LOCAL_WORKERS = Math.max(64, 4 * availableParallelism());

function checkLocalWorkers(count: number, least: number): void {
  if (!Number.isInteger(count) || count < least) usage(`--workers must be an integer ≥ ${least}, got ${count}`);
  if (count > MAX_LOCAL_WORKERS) {
    usage(`--workers ${count} would start ${count} worker processes on this machine (${availableParallelism()} cores); at most ${MAX_LOCAL_WORKERS} run locally. ` +
      'More workers join from other machines: nabla worker --connect ws://HOST:PORT');
  }
}

export const trainCommand = {
  command: 'train',
  describe: 'Train with a coordinator and local worker processes (the quick start)',
  builder: (y: Argv) => trainingOptions(y, '127.0.0.1:0')
    .option('workers', { type: 'number', default: 2, describe: 'Local worker processes to start (more can join from other machines)' })
    .example('$0 train', 'train [784,30,10] on the bundled digits with 2 local workers')
    .example('$0 train --data idx:/usr/share/datasets/fashion-mnist --epochs 3 --workers 2', 'train on Fashion-MNIST')
    .example('$0 train --data csv:rows.csv --sizes 4,8,3 --save model.json --json', 'train on a CSV file, save the model, print JSON events')
    .example('$0 train --cost cross-entropy --lambda 5 --init scaled --eta 0.5 --stop-after 10', "the book's improved network (network2), with early stopping"),
  handler: async (args: TrainingArgs & { workers: number }) => {
    checkLocalWorkers(args.workers, 0);
    // Local workers are started by us: wait for all of them, so the first steps already use every core.
    const minWorkers = Math.max(args.minWorkers, args.workers);
    process.exitCode = await runTraining(toTrainingConfig({ ...args, minWorkers }), args.workers);
  },
};

export const coordinatorCommand = {
  command: 'coordinator',
  describe: 'Accept workers over WebSocket and train (workers join from any machine)',
  builder: (y: Argv) => trainingOptions(y, '0.0.0.0:8080')
    .example('$0 coordinator --listen 0.0.0.0:8080 --sizes 784,30,10', 'then on each machine: $0 worker --connect ws://HOST:8080'),
  handler: async (args: TrainingArgs) => {
    process.exitCode = await runTraining(toTrainingConfig(args), 0);
  },
};

export const verifyCommand = {
  command: 'verify',
  describe: 'Run one mini-batch through a cluster and through TensorFlow.js autodiff, and compare every gradient',
  builder: (y: Argv) => y
    .option('model', { type: 'string', demandOption: true, describe: 'Model file (as written by --save)' })
    .option('data', { type: 'string', default: 'mnist', describe: 'Data: mnist, idx:DIR, csv:FILE; the first --batch samples are used' })
    .option('batch', { type: 'number', default: 10, describe: 'Samples in the mini-batch' })
    .option('workers', { type: 'number', default: 2, describe: 'Local worker processes' })
    .option('chunks', { type: 'string', default: 'auto', describe: 'Fixed chunks per mini-batch (auto: as nabla train)' })
    .option('tolerance', { type: 'number', default: DEFAULT_CHECK_TOLERANCE, describe: 'Largest accepted relative error' })
    .example('$0 verify --model model.json --data mnist --batch 100 --workers 3', 'exit 0 when the cluster agrees with TF.js'),
  handler: async (args: { model: string; data: string; batch: number; workers: number; chunks: string; tolerance: number }) => {
    if (!Number.isInteger(args.batch) || args.batch < 1) usage(`--batch must be a positive integer, got ${args.batch}`);
    checkLocalWorkers(args.workers, 1);
    process.exitCode = await runVerify({
      modelPath: args.model, dataSpec: args.data, batch: args.batch, workers: args.workers, tolerance: args.tolerance, chunks: parseChunks(args.chunks, args.batch),
    }, (line) => process.stdout.write(`${line}\n`));
  },
};
