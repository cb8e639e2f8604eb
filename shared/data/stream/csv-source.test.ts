import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../csv.js';
import { DataError } from '../errors.js';
import { loadDataset } from '../spec.js';
import { readAll } from './in-memory.js';
import { openSource, type DataSource, type SourceOptions } from './source.js';
import { collect, concat, csvValue, generatedCsv, tempDir } from './test-support.js';

const temp = tempDir('nabla-csv-stream-');
const csvFile = temp.write;

async function openCsv(path: string, opts: SourceOptions = {}): Promise<DataSource> {
  return (await openSource(`csv:${path}`, opts)).train;
}

/** The error of reading `path` whole with the in-memory reader and with the stream reader. */
async function errorsOf(path: string): Promise<{ inMemory: unknown; streamed: unknown }> {
  const inMemory = await readCsv(path).catch((e: unknown) => e);
  const streamed = await openCsv(path).then(readAll).catch((e: unknown) => e);
  return { inMemory, streamed };
}

describe('the CSV stream reader', () => {
  it.each([
    ['plain rows', '1,0.5,-2\n0,1e-3,3.25\n4,7,+.5\n'],
    ['a header, blank lines, CRLF endings and no final newline', 'label,a,b\r\n\r\n2,1,2\r\n\n  \n0,3,4'],
    ['spaces around fields', ' 3 , 1.5 ,2\n0,  -0 , 7 \n'],
  ])('gives the same samples as loadDataset for %s', async (_, text) => {
    const path = await csvFile('same.csv', text);
    const { train } = await loadDataset(`csv:${path}`);
    expect(await readAll(await openCsv(path))).toEqual(train);
  });

  it('gives the same samples as loadDataset across many blocks of any size', async () => {
    let text = 'label,x,y,z\n';
    for (let i = 0; i < 5000; i++) text += `${(i * 7) % 13},${i},${-i / 4},${csvValue(i, 2)}\n`;
    const path = await csvFile('many.csv', text);
    const { train } = await loadDataset(`csv:${path}`);
    const source = await openCsv(path);
    for (const blockRows of [1, 7, 4096, 5000, 9999]) {
      const blocks = await collect(source.blocks(blockRows));
      expect(blocks.every((b) => b.count <= blockRows && b.x.length === b.count * 3)).toBe(true);
      expect(blocks.length).toBe(Math.ceil(5000 / blockRows));
      expect(concat(blocks)).toEqual(train);
    }
  });

  it('knows the input size when opened and the count after a pass', async () => {
    const source = await openCsv(await csvFile('count.csv', 'a,b,c\n1,2,3\n0,4,5\n'));
    expect(source.name).toBe(`CSV ${join(temp.path(), 'count.csv')}`);
    expect(source.inputSize).toBe(2);
    expect(source.count).toBeNull();
    expect(source.isReplayable).toBe(true);
    await readAll(source);
    expect(source.count).toBe(2);
  });

  it('reports a running target size: the largest label so far + 1', async () => {
    const source = await openCsv(await csvFile('targets.csv', '1,0\n0,0\n5,0\n2,0\n'));
    expect((await collect(source.blocks(1))).map((b) => b.targetSize)).toEqual([2, 2, 6, 6]);
  });

  it('reads csv:- from the given stdin once, and says so when asked again', async () => {
    const stdin = Readable.from(['x,y\n3,0.', '25\n1,1\n']);
    const { train } = await openSource('csv:-', { stdin });
    expect(train.isReplayable).toBe(false);
    expect(train.name).toBe('CSV <stdin>');
    expect(train.inputSize).toBe(1);
    expect(await readAll(train)).toEqual((await loadDataset('csv:-', { stdin: Readable.from(['x,y\n3,0.25\n1,1\n']) })).train);
    expect(train.count).toBe(2);
    await expect(readAll(train)).rejects.toThrow('CSV <stdin>: can be read only once; collect it with readAll() to read it again');
  });

  it('closes the file when the consumer stops early, and can start again', async () => {
    const source = await openCsv(await csvFile('early.csv', '1,1\n2,2\n3,3\n'));
    for await (const block of source.blocks(1)) {
      expect(block.x).toEqual(Float64Array.of(1));
      break;
    }
    expect((await readAll(source)).count).toBe(3);
  });

  describe('fails with the message of the in-memory reader', () => {
    it.each([
      ['a row of the wrong width', 'label,x1,x2\n1,2,3\n\n1,2\n'],
      ['a word', '1,2,3\n1,two,3\n'],
      ['an empty field', '1,2,3\n1,2,\n'],
      ['NaN', '1,2,3\n1,NaN,3\n'],
      ['-Infinity', '1,2,3\n1,2,-Infinity\n'],
      ['hexadecimal', '1,2,3\n1,0x10,3\n'],
      ['an overflowing number', '1,2,3\n1,2,1e999\n'],
      ['a fractional label', '1,2\n1.5,2\n'],
      ['a negative label', 'label,x\n\n1,2\n-1,2\n'],
      ['a label that is a word', '1,2\nbird,2\n'],
      ['a label that is too large', '1,2\n70000,2\n'],
      ['a first row without inputs', '1\n2\n'],
      ['an empty file', ''],
      ['a file of blank lines', '\n\n'],
      ['a file with only a header', 'label,x\n'],
      ['a bad row far beyond the first block', `${'1,2\n'.repeat(10000)}1,2,3\n`],
    ])('for %s', async (_, text) => {
      const { inMemory, streamed } = await errorsOf(await csvFile('bad.csv', text));
      expect(streamed).toBeInstanceOf(DataError);
      expect((streamed as Error).message).toBe((inMemory as Error).message);
    });

    it('for a missing file and a directory', async () => {
      const missing = await errorsOf(join(temp.path(), 'absent.csv'));
      expect((missing.streamed as Error).message).toBe((missing.inMemory as Error).message);
      await mkdir(join(temp.path(), 'folder.csv'));
      const folder = await errorsOf(join(temp.path(), 'folder.csv'));
      expect((folder.streamed as Error).message).toBe((folder.inMemory as Error).message);
    });

    it('for a failing stream', async () => {
      const stdin = new Readable({ read() { this.destroy(new Error('disk on fire')); } });
      await expect(openSource('csv:-', { stdin })).rejects.toThrow('CSV <stdin>: read failed: disk on fire');
    });
  });

  it('reports a stream that fails after the first rows as a DataError', async () => {
    let calls = 0;
    const stdin = new Readable({
      read() {
        if (calls++ === 0) this.push('1,2\n3,4\n');
        else this.destroy(new Error('cable pulled'));
      },
    });
    const { train } = await openSource('csv:-', { stdin });
    const error = await readAll(train).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe('CSV <stdin>: read failed: cable pulled');
  });
});

describe('skipBadRows', () => {
  const text = 'label,a,b\n1,2,3\nbird,2,3\n0,4\n2,5,6\n1,x,7\n\n3,8,9\n';

  it('skips bad rows, tells onBadRow where and why, and counts them', async () => {
    const path = await csvFile('some-bad.csv', text);
    const reported: string[] = [];
    const source = await openCsv(path, { skipBadRows: true, onBadRow: (where, problem) => reported.push(`${where}: ${problem}`) });
    expect(reported).toEqual([]); // opening reads only up to the first good row
    const set = await readAll(source);
    expect(set.labels).toEqual(Uint16Array.of(1, 2, 3));
    expect(set.x).toEqual(Float64Array.of(2, 3, 5, 6, 8, 9));
    expect(set.targetSize).toBe(4);
    expect(source.count).toBe(3);
    expect(source.badRows).toBe(3);
    expect(reported).toEqual([
      `${path}:3: label "bird" is not a number`,
      `${path}:4: expected 3 fields (label + 2 inputs) like the first row, got 2`,
      `${path}:6: input 1 "x" is not a number`,
    ]);
  });

  it('counts the bad rows of each pass afresh', async () => {
    const source = await openCsv(await csvFile('twice.csv', text), { skipBadRows: true });
    await readAll(source);
    await readAll(source);
    expect(source.badRows).toBe(3);
  });

  it('lets the first good row, not a bad one before it, fix the width', async () => {
    const source = await openCsv(await csvFile('bad-first.csv', '1\n1,2,x\n1,2,3\n0,4,5\n'), { skipBadRows: true });
    expect(source.inputSize).toBe(2);
    expect((await readAll(source)).x).toEqual(Float64Array.of(2, 3, 4, 5));
    expect(source.badRows).toBe(2);
  });

  it('reports the rows stdin skipped while it was opened', async () => {
    const reported: string[] = [];
    const stdin = Readable.from(['oops\n1,x\n1,2\n']);
    const { train } = await openSource('csv:-', { stdin, skipBadRows: true, onBadRow: (where) => reported.push(where) });
    expect(reported).toEqual(['<stdin>:2']);
    expect((await readAll(train)).count).toBe(1);
    expect(train.badRows).toBe(1);
  });

  it('fails when every row is bad, saying how many it skipped', async () => {
    const path = await csvFile('all-bad.csv', 'a,b\nx,1\n1,y\n');
    await expect(openCsv(path, { skipBadRows: true })).rejects.toThrow(`CSV ${path}: no good data rows (2 bad rows skipped)`);
  });

  it('still stops at the first bad row without it', async () => {
    const path = await csvFile('stop.csv', text);
    await expect(openCsv(path).then(readAll)).rejects.toThrow(`CSV ${path}:3: label "bird" is not a number`);
  });
});

describe('a generated CSV of 100 inputs', () => {
  it('reads back the values it was written with', async () => {
    const { train } = await openSource('csv:-', { stdin: generatedCsv(1000, 100) });
    const set = await readAll(train);
    expect(set.count).toBe(1000);
    expect(set.x[537 * 100 + 42]).toBe(csvValue(537, 42));
    expect((set.labels as Uint16Array)[537]).toBe(7);
  });
});
