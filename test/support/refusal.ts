import { expect } from 'vitest';
import { ProtocolError } from '../../shared/protocol/errors.js';
import { thrownBy } from './thrown.js';

/** The ProtocolError a decode throws; the test fails when the frame is accepted or fails some other way. */
export function refusalOf(decode: () => unknown): ProtocolError {
  const error = thrownBy(decode);
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}
