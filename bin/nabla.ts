#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { coordinatorCommand, trainCommand, verifyCommand } from '../coordinator/command.js';
import { DataError } from '../shared/data/errors.js';
import { UsageError } from '../shared/usage-error.js';
import { workerCommand } from '../worker/command.js';

/** Exit codes: 0 success, 1 runtime failure, 2 usage error (bad flag, bad input file). */
async function main(): Promise<void> {
  try {
    await yargs(hideBin(process.argv))
      .scriptName('nabla')
      .command(trainCommand)
      .command(coordinatorCommand)
      .command(workerCommand)
      .command(verifyCommand)
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

await main();
