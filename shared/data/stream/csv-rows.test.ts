import { fc, test } from '@fast-check/vitest';
import { Readable } from 'node:stream';
import { describe, expect } from 'vitest';
import { isDecimal } from './csv-rows.js';
import { readAll } from './in-memory.js';
import { openSource } from './source.js';

/** What reading `text` gives: the inputs, or that it was refused. */
async function streamed(text: string): Promise<number[] | 'refused'> {
  return openSource('csv:-', { stdin: Readable.from([text]) })
    .then(({ train }) => readAll(train))
    .then((set) => Array.from(set.x), () => 'refused' as const);
}

/** The rule the parser's fast path must match: a plain decimal (spaces around it allowed) read by Number(). */
function expected(fields: string[]): number[] | 'refused' {
  const values = fields.map((field) => field.trim());
  if (!values.every((value) => isDecimal(value) && Number.isFinite(Number(value)))) return 'refused';
  return values.map(Number);
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
    'reads every decimal to the same bits as Number(), and refuses anything else',
    async (rows) => {
      const text = `${rows.map((fields) => `0,${fields.join(',')}`).join('\n')}\n`;
      const all = rows.flat();
      const want = rows.some((fields) => expected(fields) === 'refused') ? 'refused' : (expected(all) as number[]);
      expect(await streamed(text)).toEqual(want); // toEqual tells -0 from 0
    },
  );
});
