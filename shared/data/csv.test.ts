import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsv } from './csv.js';
import { DataError } from './errors.js';
import { tempDir } from './stream/test-support.js';

const temp = tempDir('nabla-csv-');
const csvFile = temp.write;

/** The DataError message that reading `text` as `name` gives. */
async function errorOf(name: string, text: string): Promise<string> {
  const error = await readCsv(await csvFile(name, text)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataError);
  return (error as Error).message;
}

describe('readCsv', () => {
  it('reads labels and inputs exactly as written', async () => {
    const set = await readCsv(await csvFile('good.csv', '1,0.5,-2\n0,1e-3,3.25\n4,7,+.5\n'));
    expect(set.count).toBe(3);
    expect(set.inputSize).toBe(2);
    expect(set.xDivisor).toBe(1);
    expect(set.x).toEqual(Float64Array.of(0.5, -2, 1e-3, 3.25, 7, 0.5));
    expect(set.labels).toEqual(Uint16Array.of(1, 0, 4));
    expect(set.y).toBeNull();
    expect(set.targetSize).toBe(5);
  });

  it('skips a header line, blank lines, CRLF endings and a missing final newline', async () => {
    const set = await readCsv(await csvFile('header.csv', 'label,a,b\r\n\r\n2,1,2\r\n\n  \n0,3,4'));
    expect(set.count).toBe(2);
    expect(set.x).toEqual(Float64Array.of(1, 2, 3, 4));
    expect(set.labels).toEqual(Uint16Array.of(2, 0));
  });

  it('grows its arrays past the initial capacity without losing rows', async () => {
    const rows = 5000;
    let text = '';
    for (let i = 0; i < rows; i++) text += `${i % 7},${i},${-i / 4}\n`;
    const set = await readCsv(await csvFile('many.csv', text));
    expect(set.count).toBe(rows);
    expect(set.x.length).toBe(rows * 2);
    expect(set.x[2 * 4321]).toBe(4321);
    expect(set.x[2 * 4321 + 1]).toBe(-4321 / 4);
    expect((set.labels as Uint16Array)[4321]).toBe(4321 % 7);
    expect(set.targetSize).toBe(7);
  });

  it('reads stdin when the path is -', async () => {
    const set = await readCsv('-', Readable.from(['x,y\n3,0.', '25\n1,1\n']));
    expect(set.x).toEqual(Float64Array.of(0.25, 1));
    expect(set.labels).toEqual(Uint16Array.of(3, 1));
  });

  it('names stdin in its errors', async () => {
    await expect(readCsv('-', Readable.from(['1,2\n1,2,3\n']))).rejects.toThrow(
      'CSV <stdin>:2: expected 2 fields (label + 1 inputs) like the first row, got 3',
    );
  });

  it('rejects a row of the wrong width with its file and line', async () => {
    const path = join(temp.path(), 'short.csv');
    expect(await errorOf('short.csv', 'label,x1,x2\n1,2,3\n\n1,2\n')).toBe(
      `CSV ${path}:4: expected 3 fields (label + 2 inputs) like the first row, got 2`,
    );
  });

  it.each([
    ['a word', '1,2,3\n1,two,3\n', ':2: input 1 "two" is not a number'],
    ['an empty field', '1,2,3\n1,2,\n', ':2: input 2 "" is not a number'],
    ['NaN', '1,2,3\n1,NaN,3\n', ':2: input 1 "NaN" is not a number'],
    ['Infinity', '1,2,3\n1,2,-Infinity\n', ':2: input 2 "-Infinity" is not a number'],
    ['hexadecimal', '1,2,3\n1,0x10,3\n', ':2: input 1 "0x10" is not a number'],
    ['an overflowing number', '1,2,3\n1,2,1e999\n', ':2: input 2 "1e999" is out of range for a double'],
  ])('rejects an input that is %s with its file and line', async (_, text, expected) => {
    expect(await errorOf('bad-input.csv', text)).toBe(`CSV ${join(temp.path(), 'bad-input.csv')}${expected}`);
  });

  it.each([
    ['fractional', '1,2\n1.5,2\n', ':2: label 1.5 is not a non-negative integer (labels are classes 0, 1, 2, …)'],
    ['negative', 'label,x\n\n1,2\n-1,2\n', ':4: label -1 is not a non-negative integer (labels are classes 0, 1, 2, …)'],
    ['not a number', '1,2\nbird,2\n', ':2: label "bird" is not a number'],
    ['too large', '1,2\n70000,2\n', ':2: label 70000 is too large (at most 65535)'],
  ])('rejects a label that is %s with its file and line', async (_, text, expected) => {
    expect(await errorOf('bad-label.csv', text)).toBe(`CSV ${join(temp.path(), 'bad-label.csv')}${expected}`);
  });

  it('rejects a first row without inputs', async () => {
    expect(await errorOf('one.csv', '1\n2\n')).toMatch(/one\.csv:1: expected a label and at least one input, got 1 field$/);
  });

  it('rejects an empty file and a file with only a header', async () => {
    expect(await errorOf('empty.csv', '')).toBe(`CSV ${join(temp.path(), 'empty.csv')}: is empty, no data rows`);
    expect(await errorOf('blank.csv', '\n\n')).toBe(`CSV ${join(temp.path(), 'blank.csv')}: is empty, no data rows`);
    expect(await errorOf('only-header.csv', 'label,x\n')).toBe(`CSV ${join(temp.path(), 'only-header.csv')}: only a header line, no data rows`);
  });

  it('says which file it could not find', async () => {
    const error = await readCsv(join(temp.path(), 'absent.csv')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(`CSV file not found: ${join(temp.path(), 'absent.csv')}`);
  });

  it('reports a failing stream as a DataError', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('disk on fire')); } });
    await expect(readCsv('-', failing)).rejects.toThrow('CSV <stdin>: read failed: disk on fire');
  });
});
