/**
 * How much of the machine something else used while we measured. On a shared 2-core machine (other people's test
 * suites, docker builds) a benchmark row can silently lose half its CPU; each row therefore carries the CPU time
 * used by processes outside this bench's own process tree, plus hypervisor steal, during its measurement window.
 *
 *   foreign = Δ(system busy jiffies, /proc/stat) − Δ(our jiffies: utime + stime + cutime + cstime, /proc/self/stat)
 *
 * cutime/cstime include every descendant that has exited and been waited for (the CLI's coordinator reaps its
 * workers, we reap the coordinator and the Python children), so a window must end after its children have exited.
 */
import { readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ; Linux reports /proc times in these ticks on every common architecture

export interface CpuSnapshot {
  wallMs: number;
  busy: number;
  steal: number;
  ours: number;
}

export interface Contention {
  /** Average cores used by other processes during the window (0 = quiet machine). */
  foreignCores: number;
  /** Average cores stolen by the hypervisor during the window. */
  stealCores: number;
  seconds: number;
}

let available: boolean | null = null;

export function snapshot(): CpuSnapshot | null {
  if (available === false) return null;
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    const self = readFileSync('/proc/self/stat', 'utf8');
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    // fields[0] is field 3 (state); utime..cstime are fields 14..17
    const ours = fields[11] + fields[12] + fields[13] + fields[14];
    available = true;
    return { wallMs: performance.now(), busy: user + nice + system + irq + softirq, steal: steal ?? 0, ours };
  } catch {
    available = false;
    return null;
  }
}

export function contentionBetween(a: CpuSnapshot | null, b: CpuSnapshot | null): Contention | null {
  if (!a || !b) return null;
  const seconds = (b.wallMs - a.wallMs) / 1000;
  if (seconds <= 0) return null;
  const foreign = Math.max(0, (b.busy - a.busy) - (b.ours - a.ours));
  return { foreignCores: foreign / HZ / seconds, stealCores: (b.steal - a.steal) / HZ / seconds, seconds };
}

/** Other processes' cores + steal, e.g. "0.03" or "0.61!" when above the threshold that makes a row suspect. */
export const SUSPECT_CORES = 0.25;
export function fmtContention(c: Contention | null | undefined): string {
  if (!c) return '?';
  const total = c.foreignCores + c.stealCores;
  return `${total.toFixed(2)}${total >= SUSPECT_CORES ? '!' : ''}`;
}

export const isSuspect = (c: Contention | null | undefined): boolean => !!c && c.foreignCores + c.stealCores >= SUSPECT_CORES;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits, in 0.5 s probes, until other processes use less than SUSPECT_CORES, for at most `maxMs` and at most what
 * is left of the shared `budget` (so a busy machine cannot stretch the whole bench). Returns the milliseconds waited.
 */
export async function waitForQuiet(maxMs: number, budget: { leftMs: number }): Promise<number> {
  const started = performance.now();
  const limit = Math.min(maxMs, budget.leftMs);
  while (performance.now() - started < limit) {
    const a = snapshot();
    await sleep(500);
    const c = contentionBetween(a, snapshot());
    if (!c || c.foreignCores + c.stealCores < SUSPECT_CORES) break;
  }
  const waited = performance.now() - started;
  budget.leftMs = Math.max(0, budget.leftMs - waited);
  return waited;
}

/**
 * Runs a measurement; when someone else used the machine meanwhile and the quiet budget allows, waits for quiet and
 * measures once more, keeping the less disturbed of the two. Waiting and re-measuring both draw on `budget`, so a
 * busy machine lengthens the bench by at most that much.
 */
export async function measureQuietly<T extends { contention: Contention | null }>(
  measure: () => Promise<T> | T, gate: () => Promise<void>, budget: { leftMs: number },
): Promise<T & { retried: boolean }> {
  await gate();
  const first = await measure();
  if (!isSuspect(first.contention) || budget.leftMs <= 0) return { ...first, retried: false };
  await gate();
  const started = performance.now();
  const second = await measure();
  budget.leftMs = Math.max(0, budget.leftMs - (performance.now() - started)); // re-measuring spends the same budget
  const load = (x: T): number => (x.contention ? x.contention.foreignCores + x.contention.stealCores : Infinity);
  return { ...(load(second) <= load(first) ? second : first), retried: true };
}
