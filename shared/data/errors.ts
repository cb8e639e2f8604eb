/** A problem with the training or test data (a bad spec, a missing file, a malformed row): the CLI prints only its message. */
export class DataError extends Error {
  override readonly name = 'DataError';
}

/** Throws a DataError; returns `never` so a built error can't be left unthrown. */
export function failData(message: string): never {
  throw new DataError(message);
}
