/**
 * Splits the chunk range [start, end) into contiguous sub-ranges, one per worker, sized in proportion to `weights`
 * (measured speeds, or all 1). Every worker with a range gets at least one chunk; when there are more workers
 * than chunks, the last ones get none (their entry is null). Pure: the maths never depends on this split.
 *
 * A cut goes to the chunk boundary nearest its proportional position, unless the other neighbouring boundary is
 * better aligned (more trailing zero bits) and at most MAX_ALIGNMENT_SHIFT chunks away: a worker returns one sum per
 * aligned tree node of its range, so a cut at 4 of 8 chunks costs one gradient-sized block per worker and a cut at
 * 5 costs two. Measured speeds jitter around equal, so without this a 2-worker split often landed on 5.
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
    let next = i === used - 1 ? end : alignedCut(start + (acc / sum) * total);
    next = Math.max(next, cursor + 1); // at least one chunk each
    next = Math.min(next, end - remainingWorkers); // leave one for each remaining worker
    result[i] = [cursor, next];
    cursor = next;
  }
  return result;
}

/** How far (in chunks) a cut may move from its proportional position to land on a better-aligned boundary. */
const MAX_ALIGNMENT_SHIFT = 0.65;

/** The boundary for the ideal cut `at`: the nearest one, or its better-aligned neighbour within MAX_ALIGNMENT_SHIFT. */
function alignedCut(at: number): number {
  const nearest = Math.round(at);
  const other = nearest <= at ? Math.ceil(at) : Math.floor(at);
  const alignment = (n: number): number => (n === 0 ? 32 : 31 - Math.clz32(n & -n));
  return alignment(other) > alignment(nearest) && Math.abs(other - at) <= MAX_ALIGNMENT_SHIFT ? other : nearest;
}
