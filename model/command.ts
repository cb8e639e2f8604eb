/** yargs commands for using a trained model: eval, predict, export. */
import type { Argv } from 'yargs';
import { STDIN_NAME } from '../shared/data/stream/line-source.js';
import { KERNEL_CHOICES, type KernelChoice, selectGemm } from '../shared/kernel/select.js';
import { readModelFile } from '../shared/network/model-file.js';
import { COST_NAMES, type CostName } from '../shared/network/cost.js';
import { usage } from '../shared/usage-error.js';
import { runEval, type Split } from './eval.js';
import { evalJson, formatEval } from './eval-report.js';
import { EXPORT_FORMATS, type ExportFormat, formatExport, runExport } from './export.js';
import { NETWORK2_FILE } from './export-network2.js';
import { PipeWriter } from './pipe-writer.js';
import { DEFAULT_PREDICT_BLOCK_ROWS, predictStream } from './predict.js';
import { ROW_FORMATS, type RowFormat } from './prediction-rows.js';

/** Prints lines on stdout; a reader that closed the pipe (`nabla eval | head`) ends the output, not the process with an error. */
const print = (lines: string[]): Promise<void> => new PipeWriter(process.stdout).write(`${lines.join('\n')}\n`);
const warn = (line: string): void => { process.stderr.write(`nabla: ${line}\n`); };

const modelOption = { type: 'string', demandOption: true, describe: 'Model file, as `nabla train --save` writes it (network2.py files load too)' } as const;
const kernelOption = { type: 'string', default: 'auto', choices: KERNEL_CHOICES, describe: 'Matrix kernel: OpenBLAS when available (auto), or plain JS' } as const;

/** Reports the first few skipped rows, then only counts them (the total is printed at the end). */
function badRowReporter(limit = 10): (where: string, problem: string) => void {
  let shown = 0;
  return (where, problem) => {
    if (shown < limit) warn(`skipping ${where}: ${problem}`);
    else if (shown === limit) warn('skipping more bad rows (not shown)');
    shown++;
  };
}

interface EvalArgs { model: string; data: string; split: Split | 'auto'; cost: CostName | 'auto'; json: boolean; kernel: KernelChoice; skipBadRows: boolean }

export const evalCommand = {
  command: 'eval',
  describe: 'Accuracy, mean cost and confusion matrix of a trained model on a data set',
  builder: (y: Argv) => y
    .option('model', modelOption)
    .option('data', { type: 'string', default: 'mnist', describe: 'Data: mnist, idx:DIR, csv:FILE, ndjson:FILE, or csv:- / ndjson:- (stdin)' })
    .option('split', { type: 'string', default: 'auto', choices: ['auto', 'train', 'test'], describe: 'Which part of --data; auto: its test split when it has one (mnist: the 2,000 held-out digits; idx: t10k), else all of it' })
    .option('cost', { type: 'string', default: 'auto', choices: ['auto', ...COST_NAMES], describe: 'Cost to report; auto: the one the model file names (quadratic when it names none)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object: accuracy, cost, costName, count, confusion[actual][predicted], recall, …' })
    .option('kernel', kernelOption)
    .option('skip-bad-rows', { type: 'boolean', default: false, describe: 'Skip malformed CSV/NDJSON rows (reported on stderr, counted) instead of stopping' })
    .example('$0 eval --model model.json', 'the bundled digits\' 2,000 held-out test samples')
    .example('$0 eval --model model.json --data idx:/usr/share/datasets/fashion-mnist --split train --json', 'the 60,000 training images, as JSON'),
  handler: async (args: EvalArgs) => {
    const report = await runEval({
      modelPath: args.model, dataSpec: args.data, kernel: args.kernel,
      split: args.split === 'auto' ? undefined : args.split, cost: args.cost === 'auto' ? undefined : args.cost,
      skipBadRows: args.skipBadRows, onBadRow: badRowReporter(),
    });
    await print(args.json ? [JSON.stringify(evalJson(report))] : formatEval(report));
  },
};

interface PredictArgs {
  model: string; format: RowFormat; labelled: boolean; outputs: boolean; divideBy: number; skipBadRows: boolean; kernel: KernelChoice;
}

export const predictCommand = {
  command: 'predict',
  describe: 'Read rows on stdin, write one predicted class per row on stdout (streaming)',
  builder: (y: Argv) => y
    .option('model', modelOption)
    .option('format', { type: 'string', default: 'csv', choices: ROW_FORMATS, describe: 'Rows: csv (x1,…,xn; a header line is skipped) or ndjson ({"x":[…]}, an optional "label" is echoed by --outputs)' })
    .option('labelled', { type: 'boolean', default: false, describe: 'CSV rows start with a label, as training files do (label,x1,…,xn); --outputs echoes it' })
    .option('outputs', { type: 'boolean', default: false, describe: 'Write JSON lines {"line":N,"class":k,"outputs":[…]} with the output activations instead of bare classes' })
    .option('divide-by', { type: 'number', default: 1, describe: 'Divide every input by this first (255 for raw 0–255 pixels: mnist and idx: data are scaled so in training)' })
    .option('skip-bad-rows', { type: 'boolean', default: false, describe: 'Skip malformed rows (reported on stderr) instead of stopping at the first one; --outputs\' "line" keeps the alignment' })
    .option('kernel', kernelOption)
    .example('$0 predict --model model.json < rows.csv > classes.txt', 'one class per input row')
    .example('$0 predict --model model.json --labelled --outputs < train.csv | head', 'a training file\'s rows, with output activations'),
  handler: async (args: PredictArgs) => {
    if (!Number.isFinite(args.divideBy) || args.divideBy <= 0) usage(`--divide-by must be a positive number, got ${args.divideBy}`);
    const model = readModelFile(args.model);
    const gemm = selectGemm(args.kernel);
    if (process.stdin.isTTY) warn(`reading rows of ${model.layout.sizes[0]} inputs from the terminal; end with Ctrl-D`);
    const summary = await predictStream(model, gemm, process.stdin, process.stdout, {
      format: args.format, isLabelled: args.labelled, divisor: args.divideBy, showOutputs: args.outputs,
      skipBadRows: args.skipBadRows, blockRows: DEFAULT_PREDICT_BLOCK_ROWS, inputName: STDIN_NAME, onBadRow: badRowReporter(),
    });
    if (summary.badRows > 0) warn(`skipped ${summary.badRows} bad rows, predicted ${summary.rows}`);
  },
};

interface ExportArgs { model: string; format: ExportFormat; out: string }

export const exportCommand = {
  command: 'export',
  describe: 'Write a trained model as a TensorFlow.js LayersModel or as the book\'s network2.py JSON',
  builder: (y: Argv) => y
    .option('model', modelOption)
    .option('format', {
      type: 'string', demandOption: true, choices: EXPORT_FORMATS,
      describe: `tfjs: DIR/model.json + DIR/weights.bin (float32) for tf.loadLayersModel; json: DIR/${NETWORK2_FILE} for network2.py's load() (float64)`,
    })
    .option('out', { type: 'string', demandOption: true, describe: 'Directory to write into (created if missing; files in it are replaced)' })
    .example('$0 export --model model.json --format tfjs --out web/model', 'then: tf.loadLayersModel(URL of model.json)')
    .example('$0 export --model model.json --format json --out book', `then: network2.load('book/${NETWORK2_FILE}')`),
  handler: async (args: ExportArgs) => {
    await print(formatExport(await runExport({ modelPath: args.model, format: args.format, outDir: args.out })));
  },
};
