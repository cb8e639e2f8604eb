/**
 * Writes text to stdout (or any Writable) with backpressure, and treats a reader that went away (`nabla predict … |
 * head`: EPIPE) as the end of the output rather than an error, as command-line filters do.
 */
import type { Writable } from 'node:stream';
import { isClosedPipe } from '../shared/closed-pipe.js';

export class PipeWriter {
  /** True once the reader has closed the pipe: later writes are dropped and the caller should stop. */
  isClosed = false;
  private failure: Error | null = null;

  constructor(private readonly output: Writable) {
    // Stays attached: an EPIPE may be reported after the last write, and an unhandled 'error' would crash the process.
    output.on('error', (error: NodeJS.ErrnoException) => {
      if (isClosedPipe(error)) this.isClosed = true;
      else this.failure ??= error;
    });
  }

  /** Writes `text`, waiting for 'drain' when the stream's buffer is full; throws a write error other than EPIPE. */
  async write(text: string): Promise<void> {
    this.throwIfFailed();
    if (this.isClosed || text === '') return;
    if (this.output.destroyed || this.output.writableEnded) {
      this.isClosed = true;
      return;
    }
    if (!this.output.write(text)) await this.drained();
    this.throwIfFailed();
  }

  private drained(): Promise<void> {
    const output = this.output;
    return new Promise((resolve) => {
      const done = (): void => {
        output.off('drain', done);
        output.off('close', done);
        output.off('error', done);
        resolve();
      };
      output.on('drain', done);
      output.on('close', done);
      output.on('error', done);
    });
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
