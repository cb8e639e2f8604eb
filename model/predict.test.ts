import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DataError } from '../shared/data/errors.js';
import { jsGemm } from '../shared/kernel/js-gemm.js';
import { argmax, feedforward } from '../shared/network/forward.js';
import type { Model } from '../shared/network/model-file.js';
import { createWorkspace, layerViews } from '../shared/network/workspace.js';
import { Rng } from '../shared/rng.js';
import { randomProblem } from '../test/support/random-problem.js';
import { type PredictOptions, predictStream } from './predict.js';

const ROWS = 23;
const { layout, params, samples } = randomProblem(3, [5, 4, 3], ROWS);
const model: Model = { layout, params, cost: 'quadratic' };
const rowText = (i: number): string => Array.from(samples.x.subarray(i * 5, (i + 1) * 5)).join(',');

/** The output activations of every row, by one feedforward over all of them. */
function expectedOutputs(): number[][] {
  const ws = createWorkspace(layout, ROWS);
  ws.activations[0].set(samples.x);
  feedforward(jsGemm, layerViews(layout, params), ws, ROWS);
  return Array.from({ length: ROWS }, (_, r) => Array.from(ws.activations[2].subarray(r * 3, r * 3 + 3)));
}

/** A Writable collecting what is written, optionally slow (to exercise 'drain'). */
function collector(options: { highWaterMark?: number; delayMs?: number } = {}): Writable & { text(): string } {
  let text = '';
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      if (options.delayMs) setTimeout(done, options.delayMs);
      else done();
    },
  });
  return Object.assign(stream, { text: () => text });
}

/** Bytes cut into chunks at seeded random places, mid-line and mid-number included. */
function chunked(text: string, seed: number): Buffer[] {
  const bytes = Buffer.from(text);
  const rng = new Rng(seed);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + rng.nextInt(40);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

const options = (more: Partial<PredictOptions> = {}): PredictOptions => ({
  format: 'csv', isLabelled: false, divisor: 1, showOutputs: false, skipBadRows: false, blockRows: 4, inputName: '<stdin>', ...more,
});

describe('predictStream', () => {
  it('writes the class of every row, as one feedforward of all rows gives it, whatever the blocks and chunks', async () => {
    // CRLF on odd lines and no newline after the last one: both as files from other systems come.
    const text = Array.from({ length: ROWS }, (_, i) => rowText(i)).map((line, i) => (i % 2 ? `${line}\r\n` : `${line}\n`)).join('').trimEnd();
    const want = expectedOutputs().map((row) => `${argmax(Float64Array.from(row), 0, 3)}\n`).join('');
    for (const seed of [1, 2, 3]) {
      const output = collector();
      const summary = await predictStream(model, jsGemm, Readable.from(chunked(text, seed)), output, options());
      expect(summary).toEqual({ rows: ROWS, badRows: 0, isOutputClosed: false });
      expect(output.text()).toBe(want);
    }
  });

  it('writes JSON lines with the line number, class, output activations and the label of a labelled row', async () => {
    const text = `label,a,b,c,d,e\n${Array.from({ length: ROWS }, (_, i) => `${samples.labels?.[i]},${rowText(i)}`).join('\n')}\n`;
    const output = collector();
    await predictStream(model, jsGemm, Readable.from([text]), output, options({ isLabelled: true, showOutputs: true }));
    const lines = output.text().trimEnd().split('\n').map((line) => JSON.parse(line));
    const outputs = expectedOutputs();
    expect(lines).toHaveLength(ROWS);
    lines.forEach((line, i) => {
      expect(line).toEqual({ line: i + 2, class: argmax(Float64Array.from(outputs[i]), 0, 3), outputs: outputs[i], label: samples.labels?.[i] });
    });
  });

  it('stops at a bad row with its line number, after writing the predictions of the rows before it', async () => {
    const text = `${rowText(0)}\n${rowText(1)}\n\n1,2,3\n${rowText(2)}\n`;
    const output = collector();
    const run = predictStream(model, jsGemm, Readable.from([text]), output, options({ blockRows: 256 }));
    await expect(run).rejects.toThrow(new DataError('CSV <stdin>:4: expected 5 inputs for the model, got 3 fields'));
    await expect(run).rejects.toBeInstanceOf(DataError);
    expect(output.text().split('\n')).toHaveLength(3); // two predictions and the final newline's empty tail
  });

  it('skips bad rows with --skip-bad-rows, telling which, and keeps the line numbers of the good ones', async () => {
    const text = `${rowText(0)}\nnot,a,row\n${rowText(1)}\n{"x":[1]}\n${rowText(2)}\n`;
    const skipped: string[] = [];
    const output = collector();
    const summary = await predictStream(model, jsGemm, Readable.from([text]), output, options({
      skipBadRows: true, showOutputs: true, onBadRow: (where, problem) => skipped.push(`${where}: ${problem}`),
    }));
    expect(summary).toMatchObject({ rows: 3, badRows: 2 });
    // The first line is good, so 'not,a,row' is a bad row, not a header.
    expect(skipped).toEqual(['<stdin>:2: expected 5 inputs for the model, got 3 fields', '<stdin>:4: expected 5 inputs for the model, got 1 field']);
    expect(output.text().trimEnd().split('\n').map((line) => JSON.parse(line).line)).toEqual([1, 3, 5]);
  });

  it('answers each row as it arrives instead of waiting for a full block', async () => {
    const input = new PassThrough();
    const output = collector();
    const run = predictStream(model, jsGemm, input, output, options({ blockRows: 256 }));
    for (let i = 0; i < 3; i++) {
      input.write(`${rowText(i)}\n`);
      await expect.poll(() => output.text().split('\n').length - 1, { timeout: 2000 }).toBe(i + 1);
    }
    input.end();
    expect((await run).rows).toBe(3);
  });

  it('waits for a slow reader (backpressure) and loses nothing', async () => {
    const many = Array.from({ length: 400 }, (_, i) => rowText(i % ROWS)).join('\n');
    const output = collector({ highWaterMark: 8, delayMs: 1 });
    const summary = await predictStream(model, jsGemm, Readable.from([many]), output, options({ showOutputs: true }));
    expect(summary.rows).toBe(400);
    expect(output.text().trimEnd().split('\n').map((line) => JSON.parse(line).line)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });

  it('stops reading when the reader goes away (EPIPE), without an error', async () => {
    let chunksRead = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        chunksRead++;
        yield Buffer.from(`${rowText(chunksRead % ROWS)}\n`);
      }
    }
    // A pipe whose reader closed after the first write: what `nabla predict | head -1` sees.
    let writes = 0;
    const closedPipe = new Writable({
      write(_chunk, _encoding, done) {
        writes++;
        done(writes === 1 ? null : Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const summary = await predictStream(model, jsGemm, Readable.from(endless()), closedPipe, options());
    expect(summary.isOutputClosed).toBe(true);
    expect(chunksRead).toBeLessThan(100);
  });
});
