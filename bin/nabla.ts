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
  const options = new Set(Object.keys((command.builder(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key));
  for (const name of Object.keys(process.env)) {
    if (!name.startsWith('NABLA_')) continue;
    const option = name.slice('NABLA_'.length).toLowerCase().replace(/_/g, '-');
    if (!options.has(option)) delete process.env[name];
  }
}

/**
 * yargs turns the text of a number option that is not a number into NaN, so a check after it could only say "got
 * NaN". This names the option and the text it was given (on the command line or in NABLA_<OPTION>).
 */
function rejectNonNumbers(argv: Record<string, unknown>, numberOptions: readonly string[], args: readonly string[]): void {
  for (const option of numberOptions) {
    const value = argv[option];
    if (typeof value !== 'number' || !Number.isNaN(value)) continue;
    let at = args.length - 1;
    while (at >= 0 && args[at] !== `--${option}` && !args[at].startsWith(`--${option}=`)) at--;
    const text = at < 0 ? process.env[`NABLA_${option.toUpperCase().replace(/-/g, '_')}`] : args[at].includes('=') ? args[at].slice(option.length + 3) : args[at + 1];
    throw new UsageError(`--${option} must be a number, got ${JSON.stringify(text ?? '')}`);
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
      .middleware(((argv: Record<string, unknown>, cli: { getOptions(): { number: string[] } }) => rejectNonNumbers(argv, cli.getOptions().number, args)) as never, true)
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
