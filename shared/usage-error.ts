/** A mistake in how a command was called (a bad flag value, a missing file): printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

export function usage(message: string): never {
  throw new UsageError(message);
}
