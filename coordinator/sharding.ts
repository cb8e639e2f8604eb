/**
 * Splits the chunk range [start, end) into contiguous sub-ranges, one per worker, sized in proportion to `weights`
 * (measured speeds, or all 1). Every worker with a range gets at least one chunk; when there are more workers
 * than chunks, the last ones get none (their entry is null). Pure: the maths never depends on this split.
 */
export function splitChunks(start: number, end: number, weights: readonly number[]): Array<[number, number] | null> {
  const total = end - start;
  const used = Math.min(weights.length, total);
  const result: Array<[number, number] | null> = weights.map(() => null);
  if (used === 0) return result;
  const sum = weights.slice(0, used).reduce((a, b) => a + Math.max(b, 1e-9), 0);
  let cursor = start;
  let acc = 0;
  for (let i = 0; i < used; i++) {
    acc += Math.max(weights[i], 1e-9);
    const remainingWorkers = used - i - 1;
    let next = i === used - 1 ? end : start + Math.round((acc / sum) * total);
    next = Math.max(next, cursor + 1); // at least one chunk each
    next = Math.min(next, end - remainingWorkers); // leave one for each remaining worker
    result[i] = [cursor, next];
    cursor = next;
  }
  return result;
}
