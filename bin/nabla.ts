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
