/** A write failed because the reader went away (`… | head`): the end of the output, not an error of the command. */
export function isClosedPipe(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
}
