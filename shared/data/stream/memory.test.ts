/**
 * Bounded memory: 200k rows × 100 inputs of CSV (about 125 MB of text) generated as it is read, through the CSV
 * reader, a 10k shuffle buffer and mini-batches of 100. Held whole, the inputs alone would take 160 MB as Float64 (and
 * the in-memory reader peaks near twice that while its arrays double), the text 125 MB of heap. Streamed, what stays
 * alive is the shuffle buffer (8 MB) and a few blocks; the rest of the growth is garbage V8 has not collected yet:
 * its young generation grows to 3 × 16 MB at this allocation rate (readline alone adds about 50 MB of rss here), and
 * dead typed arrays wait for a collection that comes at the latest at V8's 64 MB external-memory limit.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { miniBatches } from './batches.js';
import { shuffleBuffer } from './shuffle-buffer.js';
import { openSource } from './source.js';
import { csvValue, generatedCsv } from './test-support.js';

const ROWS = 200_000;
const INPUTS = 100;
const MB = 2 ** 20;
/** Live data plus uncollected garbage, JS heap and typed arrays each: observed about 20 MB and 50–70 MB. */
const LIMIT_BYTES = 100 * MB;
/** The process as the OS sees it, V8's young generation and allocator caches included: observed 80–113 MB. */
const RSS_LIMIT_BYTES = 150 * MB;

/** A full garbage collection, so that the baseline and the end are measured without garbage. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

it(`streams ${ROWS} rows × ${INPUTS} inputs through shuffleBuffer(10k) and miniBatches(100) in bounded memory`, async () => {
  collectGarbage();
  const base = process.memoryUsage();
  let peakHeap = 0, peakRss = 0, peakArrayBuffers = 0;
  const sample = (): void => {
    const now = process.memoryUsage();
    peakHeap = Math.max(peakHeap, now.heapUsed - base.heapUsed);
    peakRss = Math.max(peakRss, now.rss - base.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - base.arrayBuffers);
  };

  const startMs = performance.now();
  const { train } = await openSource('csv:-', { stdin: generatedCsv(ROWS, INPUTS) });
  // Row i's content depends only on i mod 1000, so "every row once" means every residue class exactly ROWS / 1000 times.
  const timesSeen = new Uint32Array(1000);
  let batches = 0, samples = 0, isRowIntact = true;
  for await (const batch of miniBatches(shuffleBuffer(train.blocks(), 10_000, new Rng(7)), 100)) {
    for (let r = 0; r < batch.count; r++) {
      const i = rowResidue(batch.x[r * INPUTS]);
      isRowIntact &&= (batch.labels as Uint16Array)[r] === i % 10 && batch.x[r * INPUTS + 99] === csvValue(i, 99);
      timesSeen[i]++;
    }
    samples += batch.count;
    if (++batches % 50 === 0) sample();
  }
  const seconds = (performance.now() - startMs) / 1000;
  sample();
  console.log(
    `memory test: ${samples} rows in ${seconds.toFixed(1)} s (${Math.round(samples / seconds)} rows/s through generate + parse + shuffle + batch); ` +
      `peak growth heapUsed ${(peakHeap / MB).toFixed(1)} MB, rss ${(peakRss / MB).toFixed(1)} MB, arrayBuffers ${(peakArrayBuffers / MB).toFixed(1)} MB`,
  );
  expect(samples).toBe(ROWS);
  expect(batches).toBe(ROWS / 100);
  expect(isRowIntact).toBe(true);
  expect(timesSeen.every((times) => times === ROWS / 1000)).toBe(true);
  expect(peakHeap).toBeLessThan(LIMIT_BYTES);
  expect(peakArrayBuffers).toBeLessThan(LIMIT_BYTES);
  expect(peakRss).toBeLessThan(RSS_LIMIT_BYTES);
});

/** Row i's first input is csvValue(i, 0) = ((31 i) mod 1000) / 8 - 50; gives i mod 1000 back (31 × 871 ≡ 1 mod 1000). */
function rowResidue(firstInput: number): number {
  return (Math.round((firstInput + 50) * 8) * 871) % 1000;
}
