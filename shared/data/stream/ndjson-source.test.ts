import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { readAll } from './in-memory.js';
import { openSource, type DataSource, type SourceOptions } from './source.js';
import { collect } from './test-support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nabla-ndjson-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openNdjson(name: string, text: string, opts: SourceOptions = {}): Promise<DataSource> {
  const path = join(dir, name);
  await writeFile(path, text);
  return (await openSource(`ndjson:${path}`, opts)).train;
}

/** The DataError message of opening and reading `text` as a file. */
async function errorOf(text: string): Promise<string> {
  const error = await openNdjson('bad.ndjson', text).then(readAll).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataError);
  return (error as Error).message;
}

describe('the NDJSON stream reader', () => {
  it('reads rows with labels', async () => {
    const source = await openNdjson('labels.ndjson', '{"x":[0.5,-2],"label":1}\n\n{"label":4,"x":[1e-3,3.25],"id":"extra keys are ignored"}\r\n');
    expect(source.name).toBe(`NDJSON ${join(dir, 'labels.ndjson')}`);
    expect(source.inputSize).toBe(2);
    expect(await readAll(source)).toEqual({
      count: 2, inputSize: 2, x: Float64Array.of(0.5, -2, 1e-3, 3.25), xDivisor: 1, labels: Uint16Array.of(1, 4), y: null, targetSize: 5,
    });
    expect(source.count).toBe(2);
  });

  it('reads rows with full target vectors', async () => {
    const source = await openNdjson('vectors.ndjson', '{"x":[1,2,3],"y":[0.25,0.75]}\n{"x":[4,5,6],"y":[1,0]}');
    expect(await readAll(source)).toEqual({
      count: 2, inputSize: 3, x: Float64Array.of(1, 2, 3, 4, 5, 6), xDivisor: 1, labels: null, y: Float64Array.of(0.25, 0.75, 1, 0), targetSize: 2,
    });
  });

  it('cuts many rows into blocks that join up to every row', async () => {
    let text = '';
    for (let i = 0; i < 1000; i++) text += `${JSON.stringify({ x: [i, -i], y: [i / 2] })}\n`;
    const blocks = await collect((await openNdjson('many.ndjson', text)).blocks(64));
    expect(blocks.map((b) => b.count)).toEqual([...Array<number>(15).fill(64), 40]);
    expect(blocks[15].x[2 * 39]).toBe(999);
    expect(blocks[15].y?.[39]).toBe(499.5);
  });

  it('reads ndjson:- from the given stdin', async () => {
    const { train } = await openSource('ndjson:-', { stdin: Readable.from(['{"x":[1],"lab', 'el":2}\n{"x":[3],"label":0}\n']) });
    expect(train.name).toBe('NDJSON <stdin>');
    expect(train.isReplayable).toBe(false);
    const set = await readAll(train);
    expect(set.x).toEqual(Float64Array.of(1, 3));
    expect(set.labels).toEqual(Uint16Array.of(2, 0));
  });

  it.each([
    ['broken JSON', '{"x":[1],"label":1}\n{"x":[1],"label":1\n', /:2: not valid JSON \(.+\)$/],
    ['an array', '[1,2]\n', ':1: expected an object like {"x":[…],"label":k} or {"x":[…],"y":[…]}, got an array'],
    ['a number', '{"x":[1],"label":1}\n7\n', ':2: expected an object like {"x":[…],"label":k} or {"x":[…],"y":[…]}, got 7'],
    ['no x', '{"label":1}\n', ':1: "x" must be an array of numbers, got nothing'],
    ['x a string', '{"x":"1,2","label":1}\n', ':1: "x" must be an array of numbers, got "1,2"'],
    ['an empty x', '{"x":[],"label":1}\n', ':1: "x" is empty; expected at least one number'],
    ['a string in x', '{"x":[1,"2"],"label":1}\n', ':1: x[1] is "2", not a number'],
    ['a null in y', '{"x":[1],"y":[0,null]}\n', ':1: y[1] is null, not a number'],
    ['an overflowing number', '{"x":[1e999],"label":1}\n', ':1: x[0] is out of range for a double'],
    ['both label and y', '{"x":[1],"label":1,"y":[1]}\n', ':1: has both "label" and "y"; use one of them'],
    ['neither label nor y', '{"x":[1]}\n', ':1: has neither "label" nor "y"; expected {"x":[…],"label":k} or {"x":[…],"y":[…]}'],
    ['y after label', '{"x":[1],"label":1}\n{"x":[1],"y":[1]}\n', ':2: uses "y" but the first row used "label"; every row must use the same form'],
    ['label after y', '{"x":[1],"y":[1]}\n\n{"x":[1],"label":0}\n', ':3: uses "label" but the first row used "y"; every row must use the same form'],
    ['x of another width', '{"x":[1,2],"label":1}\n{"x":[1],"label":1}\n', ':2: "x" has 1 values, expected 2 like the first row'],
    ['y of another width', '{"x":[1],"y":[1,2]}\n{"x":[1],"y":[1,2,3]}\n', ':2: "y" has 3 values, expected 2 like the first row'],
    ['a fractional label', '{"x":[1],"label":1.5}\n', ':1: label 1.5 is not a non-negative integer (labels are classes 0, 1, 2, …)'],
    ['a negative label', '{"x":[1],"label":-1}\n', ':1: label -1 is not a non-negative integer (labels are classes 0, 1, 2, …)'],
    ['a label that is too large', '{"x":[1],"label":70000}\n', ':1: label 70000 is too large (at most 65535)'],
    ['a label that is a string', '{"x":[1],"label":"3"}\n', ':1: label "3" is not a number'],
    ['no rows', '\n \n', ': is empty, no data rows'],
  ])('rejects %s with its file and line', async (_, text, expected) => {
    const message = await errorOf(text);
    const prefix = `NDJSON ${join(dir, 'bad.ndjson')}`;
    if (typeof expected === 'string') expect(message).toBe(`${prefix}${expected}`);
    else {
      expect(message.startsWith(prefix)).toBe(true);
      expect(message.slice(prefix.length)).toMatch(expected);
    }
  });

  it('says which file it could not find', async () => {
    await expect(openSource(`ndjson:${join(dir, 'absent.ndjson')}`)).rejects.toThrow(`NDJSON file not found: ${join(dir, 'absent.ndjson')}`);
  });

  it('skips bad rows when asked, reporting and counting them', async () => {
    const reported: Array<[string, string]> = [];
    const source = await openNdjson(
      'some-bad.ndjson',
      '{"x":[1,2],"y":[1]}\n{"x":[3],"y":[1]}\nnot json\n{"x":[5,6],"label":1}\n{"x":[7,8],"y":[0]}\n',
      { skipBadRows: true, onBadRow: (where, problem) => reported.push([where, problem]) },
    );
    const set = await readAll(source);
    expect(set.x).toEqual(Float64Array.of(1, 2, 7, 8));
    expect(set.y).toEqual(Float64Array.of(1, 0));
    expect(source.badRows).toBe(3);
    const path = join(dir, 'some-bad.ndjson');
    expect(reported.map(([where]) => where)).toEqual([`${path}:2`, `${path}:3`, `${path}:4`]);
    expect(reported[0][1]).toBe('"x" has 1 values, expected 2 like the first row');
    expect(reported[1][1]).toMatch(/^not valid JSON \(.+\)$/);
    expect(reported[2][1]).toBe('uses "label" but the first row used "y"; every row must use the same form');
  });
});
