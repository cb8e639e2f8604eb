#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { coordinatorCommand, trainCommand, verifyCommand } from '../coordinator/command.js';
import { DataError } from '../shared/data/errors.js';
import { UsageError } from '../shared/usage-error.js';
import { workerCommand } from '../worker/command.js';
import { monitorCommand } from '../monitor/command.js';
import { evalCommand, exportCommand, predictCommand } from '../model/command.js';
import { isClosedPipe } from '../shared/closed-pipe.js';
import { tuneHeapGrowth } from '../shared/heap-growth.js';

const commands = [trainCommand, coordinatorCommand, workerCommand, monitorCommand, verifyCommand, evalCommand, predictCommand, exportCommand];

/**
 * Every option can come from NABLA_<OPTION>. One environment often serves several roles (NABLA_TOKEN for the
 * coordinator and its workers, NABLA_EPOCHS only for the coordinator), so variables that are not options of the
 * command being run are ignored rather than reported as unknown arguments.
 */
function ignoreForeignEnv(args: string[]): void {
  const command = commands.find((c) => c.command === args[0]);
  if (!command) return;
  const options = Object.keys((command.builder(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
  const known = new Set(options.filter((key) => key === key.toLowerCase()).map(envName)); // not yargs' camelCase copies
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('NABLA_') && !known.has(name)) delete process.env[name];
  }
}

/** The environment variable that sets an option: NABLA_ and the option in upper case, dashes as underscores. */
const envName = (option: string): string => `NABLA_${option.toUpperCase().replace(/-/g, '_')}`;

/**
 * Number options, read from their text. yargs turns text that is not a number into NaN, so a check after it could
 * only say "got NaN"; and it adds 1 to an option given twice whose last value is 1 (yargs-parser #506, open:
 * `--epochs 30 --epochs 1` gave 31 epochs). So the last occurrence on the command line decides (or NABLA_<OPTION>
 * when there is none, as yargs has it), and text that is not a number is refused naming the option and the text.
 */
function readNumberOptions(argv: Record<string, unknown>, numberOptions: readonly string[], args: readonly string[]): void {
  for (const option of numberOptions) {
    let at = args.length - 1;
    while (at >= 0 && args[at] !== `--${option}` && !args[at].startsWith(`--${option}=`)) at--;
    const text = at < 0 ? process.env[envName(option)] : args[at].includes('=') ? args[at].slice(option.length + 3) : args[at + 1];
    if (text === undefined && at >= 0) throw new UsageError(`--${option} needs a number after it`);
    if (text === undefined) continue; // the default
    const value = text.trim() === '' ? Number.NaN : Number(text);
    if (Number.isNaN(value)) throw new UsageError(`--${option} must be a number, got ${JSON.stringify(text)}`);
    argv[option] = value;
    argv[option.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())] = value;
  }
}

/** Exit codes: 0 success, 1 runtime failure, 2 usage error (bad flag, bad input file). */
async function main(): Promise<void> {
  const args = hideBin(process.argv);
  ignoreForeignEnv(args);
  try {
    await commands.reduce((cli, command) => cli.command(command as never), yargs(args).scriptName('nabla'))
      .demandCommand(1, 'Choose a command; try --help')
      .env('NABLA')
      .strict()
      .parserConfiguration({ 'duplicate-arguments-array': false })
      .help()
      // yargs passes itself, with the running command's options, as the second argument (missing from its types).
      .middleware(((argv: Record<string, unknown>, cli: { getOptions(): { number: string[] } }) => readNumberOptions(argv, cli.getOptions().number, args)) as never, true)
      .fail((message, error) => {
        if (error) throw error;
        throw new UsageError(message);
      })
      .parseAsync();
  } catch (error) {
    if (error instanceof UsageError || error instanceof DataError) {
      process.stderr.write(`nabla: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`nabla: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}

// A reader that goes away (`nabla train --json | head`) is not a failure of the run: training, checkpoints and --save
// carry on, without stdout. Commands that only print (predict, eval) stop on their own when it closes.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (!isClosedPipe(error)) throw error;
});

tuneHeapGrowth(); // V8's full collections: shared/heap-growth.ts
await main();
