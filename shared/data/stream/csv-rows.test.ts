import { fc, test } from '@fast-check/vitest';
import { Readable } from 'node:stream';
import { describe, expect } from 'vitest';
import { readCsvStream } from '../csv.js';
import type { SampleSet } from '../samples.js';
import { readAll } from './in-memory.js';
import { openSource } from './source.js';

/** What reading `text` gives: the set, or the error message. */
type Outcome = { set: SampleSet } | { error: string };

async function inMemory(text: string): Promise<Outcome> {
  return readCsvStream(Readable.from([text]), '<stdin>').then((set) => ({ set }), (e: Error) => ({ error: e.message }));
}

async function streamed(text: string): Promise<Outcome> {
  return openSource('csv:-', { stdin: Readable.from([text]) })
    .then(({ train }) => readAll(train))
    .then((set) => ({ set }), (e: Error) => ({ error: e.message }));
}

/** Numbers as people and programs write them: shortest form, fixed, precision, exponent, signs, spaces, odd forms. */
const numberText = fc.oneof(
  fc.double({ noNaN: true }).map(String),
  fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 20 })).map(([v, k]) => v.toFixed(k)),
  fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 1, max: 21 })).map(([v, k]) => v.toPrecision(k)),
  fc.integer({ min: -70000, max: 70000 }).map(String),
  fc.stringMatching(/^[ +-]?[0-9]{0,18}\.?[0-9]{0,18}([eE][+-]?[0-9]{1,3})? ?$/),
  fc.string({ unit: fc.constantFrom(...'0123456789.-+eEx \t'), maxLength: 8 }),
);

describe('the CSV line parser', () => {
  test.prop([fc.integer({ min: 1, max: 4 }).chain((width) => fc.array(fc.array(numberText, { minLength: width + 1, maxLength: width + 1 }), { minLength: 1, maxLength: 4 }))], { numRuns: 300 })(
    'reads any lines exactly as the in-memory reader does: same numbers to the bit, or the same error',
    async (rows) => {
      const text = `${rows.map((fields) => fields.join(',')).join('\n')}\n`;
      const [expected, actual] = await Promise.all([inMemory(text), streamed(text)]);
      expect(actual).toEqual(expected); // toEqual tells -0 from 0 and compares typed arrays element by element
    },
  );
});
