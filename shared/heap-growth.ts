import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap growth for nabla's processes, set from inside each one at start-up (first thing in bin/nabla.ts), so
 * `npx nabla …`, the image and local workers all get it with a plain `node`.
 *
 * The waste it removes: the default job's coordinator ran a mark-compact every 60–80 ms (97–121 over the job, 25 in a
 * worker), each stalling a step by 3–17 ms where a step is 0.25 ms: 20 % of training time. The old generation does not
 * grow between them (`--trace-gc --trace-incremental-marking`: marking starts at ≈ 9 MB of a ≈ 33 MB limit): V8 sets
 * the limit from what survived the last full collection, and with the young generation grown to its 16 MiB under
 * nabla's allocation rate, the room left under that limit is too small, so V8 starts marking early. With the limit
 * at 5× what survives (--heap-growing-percent=400) the room is there. Default job, two runs each: mark-compacts
 * 97 / 120 by default, 54 / 54 at 200 %, 21 / 23 at 300 %, 4 / 3 at 400 %; training 8.8 / 9.2 s, 8.2 / 8.2, 7.7 / 7.6,
 * 7.4 / 7.4 s. Over sockets only (small net, 2 workers, --no-shm, every process plain or every process tuned):
 * 4.1 / 5.1k → 12.2–12.5k samples/s.
 *
 * Why this flag: V8 reads --heap-growing-percent each time it sets the limit, so it works when set at run time.
 * The flags that did the same before (--initial-old-space-size=64 on node's command line, --max-semi-space-size=1 for
 * workers in NODE_OPTIONS) are read only when the heap is created: they needed `#!/usr/bin/env -S node …` in the
 * shebang, which BusyBox (Alpine) and the BSDs reject, or a user who remembers them. With this in place they add
 * nothing measurable (default job 7.2 / 7.2 s with both; big net float32, 2 workers over sockets, 16.7–18.3k samples/s
 * with either, both or neither). Memory: a large heap may grow to 5× its live size before a full collection, within
 * V8's heap maximum. A --heap-growing-percent on node's own command line wins (Node refuses it in NODE_OPTIONS).
 */
const HEAP_GROWTH_FLAG = '--heap-growing-percent=400';

/** Sets HEAP_GROWTH_FLAG unless node was started with its own --heap-growing-percent. */
export function tuneHeapGrowth(): void {
  if (process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return;
  setFlagsFromString(HEAP_GROWTH_FLAG);
}
