import type { FailureCode } from './messages.js';

/** A frame that breaks the protocol; `code` goes into the failure message sent back before the socket is closed. */
export class ProtocolError extends Error {
  constructor(readonly code: FailureCode, detail: string) {
    super(detail);
    this.name = 'ProtocolError';
  }
}

/** Throws a ProtocolError; returning `never` means a built error can't be forgotten instead of thrown. */
export function fail(code: FailureCode, detail: string): never {
  throw new ProtocolError(code, detail);
}
