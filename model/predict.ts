/**
 * `nabla predict`: rows in, one prediction per row out, streaming. Lines are parsed straight into the input block of
 * a preallocated workspace; a full block (or the end of what is available right now, so an interactive user or a
 * slow producer still gets answers at once) goes through the batched feedforward and its predictions are written in
 * one piece, waiting for the reader when the pipe is full.
 */
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { failData } from '../shared/data/errors.js';
import { BadRow } from '../shared/data/stream/line-parser.js';
import type { Gemm } from '../shared/kernel/gemm.js';
import { argmax, feedforward } from '../shared/network/forward.js';
import { inputSize, outputSize } from '../shared/network/layout.js';
import type { Model } from '../shared/network/model-file.js';
import { createWorkspace, layerViews } from '../shared/network/workspace.js';
import { PipeWriter } from './pipe-writer.js';
import { PredictionRowParser, type RowFormat } from './prediction-rows.js';

export interface PredictOptions {
  format: RowFormat;
  isLabelled: boolean;
  /** Inputs are divided by this before the network sees them. */
  divisor: number;
  /** Write JSON lines {"line","class","outputs"[,"label"]} instead of bare classes. */
  showOutputs: boolean;
  skipBadRows: boolean;
  /** Rows fed forward together. */
  blockRows: number;
  /** The input's name in messages. */
  inputName: string;
  /** Told about each skipped bad row (with skipBadRows). */
  onBadRow?: (where: string, problem: string) => void;
}

export interface PredictSummary {
  rows: number;
  badRows: number;
  /** The reader closed the output before the input ended (e.g. `| head`). */
  isOutputClosed: boolean;
}

export const DEFAULT_PREDICT_BLOCK_ROWS = 256;

/** Reads rows from `input` to its end (or until `output`'s reader goes away) and writes a prediction per row. */
export async function predictStream(model: Model, gemm: Gemm, input: Readable, output: Writable, options: PredictOptions): Promise<PredictSummary> {
  const { layout, params } = model;
  const { blockRows, showOutputs, skipBadRows, inputName } = options;
  const nIn = inputSize(layout), nOut = outputSize(layout), L = layout.layers.length;
  const ws = createWorkspace(layout, blockRows);
  const views = layerViews(layout, params);
  const lineOfRow = new Float64Array(blockRows);
  const labelOfRow = new Int32Array(blockRows);
  const parser = new PredictionRowParser({ format: options.format, inputs: nIn, isLabelled: options.isLabelled, divisor: options.divisor });
  const writer = new PipeWriter(output);
  const formatName = options.format.toUpperCase();
  const maxLineChars = Math.max(1 << 20, nIn * 64);
  let rows = 0, lineNumber = 0, total = 0, badRows = 0;

  /** Feeds the block forward and writes its predictions. */
  const flush = async (): Promise<void> => {
    if (rows === 0) return;
    feedforward(gemm, views, ws, rows);
    const out = ws.activations[L];
    let text = '';
    for (let r = 0; r < rows; r++) {
      const predicted = argmax(out, r * nOut, nOut);
      if (!showOutputs) {
        text += `${predicted}\n`;
        continue;
      }
      text += `{"line":${lineOfRow[r]},"class":${predicted},"outputs":[`;
      for (let j = 0; j < nOut; j++) text += j === 0 ? `${out[r * nOut]}` : `,${out[r * nOut + j]}`;
      text += labelOfRow[r] >= 0 ? `],"label":${labelOfRow[r]}}\n` : ']}\n';
    }
    total += rows;
    rows = 0;
    await writer.write(text);
  };

  /** Parses one line into the block; true when the block is now full. */
  const takeLine = (line: string): boolean => {
    lineNumber++;
    try {
      if (!parser.parse(line, ws.activations[0], rows * nIn)) return false;
    } catch (error) {
      if (!(error instanceof BadRow)) throw error;
      const where = `${inputName}:${lineNumber}`;
      if (!skipBadRows) throw new BadRowAt(`${formatName} ${where}: ${error.problem}`);
      badRows++;
      options.onBadRow?.(where, error.problem);
      return false;
    }
    lineOfRow[rows] = lineNumber;
    labelOfRow[rows] = parser.label;
    rows++;
    return rows === blockRows;
  };

  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of input) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      let start = 0;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n', start)) {
        const end = newline > start && pending.charCodeAt(newline - 1) === 13 /* \r */ ? newline - 1 : newline;
        if (takeLine(pending.slice(start, end))) await flush();
        start = newline + 1;
        if (writer.isClosed) break;
      }
      if (writer.isClosed) break;
      pending = pending.slice(start);
      if (pending.length > maxLineChars) throw new BadRowAt(`${formatName} ${inputName}:${lineNumber + 1}: a line longer than ${maxLineChars} characters; rows must be one per line`);
      // Nothing more is buffered: answer the rows we have now rather than wait for a full block.
      if (input.readableLength === 0) await flush();
      if (writer.isClosed) break;
    }
    if (!writer.isClosed) {
      pending += decoder.end();
      if (pending !== '' && takeLine(pending.endsWith('\r') ? pending.slice(0, -1) : pending)) await flush();
      await flush();
    }
  } catch (error) {
    if (!(error instanceof BadRowAt)) throw error;
    await flush(); // the rows before the bad one still get their predictions
    failData(error.message);
  }
  return { rows: total, badRows, isOutputClosed: writer.isClosed };
}

/** A bad row found mid-block: thrown past the block's good rows, which are written before the DataError. */
class BadRowAt extends Error {}
