import { fc, test } from '@fast-check/vitest';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BadRow } from '../shared/data/stream/line-parser.js';
import { readAll } from '../shared/data/stream/in-memory.js';
import { openSource } from '../shared/data/stream/source.js';
import { PredictionRowParser, type RowOptions } from './prediction-rows.js';

const csv = (inputs: number, more: Partial<RowOptions> = {}): PredictionRowParser =>
  new PredictionRowParser({ format: 'csv', inputs, isLabelled: false, divisor: 1, ...more });

/** The row a line gives, or the problem a BadRow names. */
function parsed(parser: PredictionRowParser, line: string, inputs: number): number[] | null | string {
  const x = new Float64Array(inputs + 2).fill(-1);
  try {
    return parser.parse(line, x, 1) ? Array.from(x.subarray(1, 1 + inputs)) : null;
  } catch (error) {
    if (error instanceof BadRow) return error.problem;
    throw error;
  }
}

describe('prediction rows', () => {
  it('reads CSV inputs into the row at the offset, skipping a header line and blank lines', () => {
    const parser = csv(3);
    expect(parsed(parser, 'a,b,c', 3)).toBeNull();
    expect(parsed(parser, '', 3)).toBeNull();
    expect(parsed(parser, ' 1, -2.5 ,3e2', 3)).toEqual([1, -2.5, 300]);
    expect(parser.label).toBe(-1);
  });

  it('reads a leading label with --labelled, and divides inputs by the divisor', () => {
    const parser = csv(2, { isLabelled: true, divisor: 255 });
    expect(parsed(parser, '7,255,51', 2)).toEqual([1, 0.2]);
    expect(parser.label).toBe(7);
    expect(parsed(parser, '1.5,0,0', 2)).toBe('label "1.5" is not a non-negative integer (labels are classes 0, 1, 2, …)');
  });

  it('names the width the model needs and suggests --labelled when a row has one field too many', () => {
    expect(parsed(csv(3), '1,2', 3)).toBe('expected 3 inputs for the model, got 2 fields');
    expect(parsed(csv(3), '0,1,2,3', 3)).toBe('expected 3 inputs for the model, got 4 fields; if the first field is a label, add --labelled');
    expect(parsed(csv(3, { isLabelled: true }), '1,2,3', 3))
      .toBe('expected a label and 3 inputs (4 fields) for the model, got 3 fields; if the rows have no label, leave out --labelled');
  });

  it('refuses what is not a decimal number, naming the input', () => {
    const parser = csv(3);
    expect(parsed(parser, '1,2,3', 3)).toEqual([1, 2, 3]);
    expect(parsed(parser, '1,0x10,3', 3)).toBe('input 2 "0x10" is not a number');
    expect(parsed(parser, '1,,3', 3)).toBe('input 2 "" is not a number');
    expect(parsed(parser, '1,2,1e999', 3)).toBe('input 3 "1e999" is out of range for a double');
    expect(parsed(parser, `1,2,${'9'.repeat(400)}`, 3)).toBe(`input 3 "${'9'.repeat(400)}" is out of range for a double`);
  });

  it('reads NDJSON {"x":[…]} rows, keeping an optional label', () => {
    const parser = new PredictionRowParser({ format: 'ndjson', inputs: 2, isLabelled: false, divisor: 2 });
    expect(parsed(parser, '{"x":[1,3],"id":"a"}', 2)).toEqual([0.5, 1.5]);
    expect(parser.label).toBe(-1);
    expect(parsed(parser, '{"x":[0,0],"label":4}', 2)).toEqual([0, 0]);
    expect(parser.label).toBe(4);
    expect(parsed(parser, '{"x":[1]}', 2)).toBe('"x" has 1 values, the model takes 2 inputs');
    expect(parsed(parser, '{"x":[1,"2"]}', 2)).toBe('x[1] is "2", not a finite number');
    expect(parsed(parser, '[1,2]', 2)).toBe('expected an object like {"x":[…]}');
    expect(parsed(parser, '{"x":', 2)).toMatch(/^not valid JSON/);
  });

  test.prop([fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.double({ min: -1e3, max: 1e3, noNaN: true }).map((v) => v.toFixed(7))), { minLength: 1, maxLength: 6 })])(
    'reads every number to the same bits as the training CSV reader',
    async (fields) => {
      const { train } = await openSource('csv:-', { stdin: Readable.from([`0,${fields.join(',')}\n`]) });
      const trained = Array.from((await readAll(train)).x);
      expect(parsed(csv(fields.length), fields.join(','), fields.length)).toEqual(trained);
    },
  );
});
