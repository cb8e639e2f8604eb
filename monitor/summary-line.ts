/** One short line per snapshot for logs and pipes (the monitor's plain mode). Pure. */
import type { StatusSnapshot } from '../shared/protocol/status.js';
import { formatClock, formatCost, formatPercent, formatRate, formatTimeOfDay, plural, sanitize } from './format.js';
import { slowestWorker } from './panels.js';

/** E.g. `12:03:04 · training · epoch 3/30 step 1800/24000 (7.5%) · 4.85k samples/s · cost 0.101 · …`. */
export function summaryLine(snapshot: StatusSnapshot): string {
  const { progress, job, throughput } = snapshot;
  const parts: string[] = [formatTimeOfDay(snapshot.timeMs), progress.state];
  if (job) {
    const fraction = progress.state === 'done' ? 1 : job.totalSteps > 0 ? progress.step / job.totalSteps : 0;
    parts.push(`epoch ${progress.epoch}/${job.epochs} step ${progress.step}/${job.totalSteps} (${(fraction * 100).toFixed(1)}%)`);
  }
  parts.push(`${formatRate(throughput.samplesPerSecond)} samples/s`);
  const cost = snapshot.costHistory.at(-1);
  if (cost !== undefined) parts.push(`cost ${formatCost(cost)}`);
  const accuracy = snapshot.epochs.filter((epoch) => epoch.testAccuracy !== null).at(-1)?.testAccuracy ?? null;
  if (accuracy !== null) parts.push(`accuracy ${formatPercent(accuracy)}`);
  const slowest = slowestWorker(snapshot.workers);
  parts.push(`${plural(snapshot.workers.length, 'worker')}${slowest ? ` (slowest ${sanitize(slowest.id)} ${formatRate(slowest.samplesPerSecond)}/s)` : ''}`);
  if (snapshot.reference) parts.push(`reference ${snapshot.reference.ok && snapshot.reference.failures === 0 ? 'pass' : `FAIL (${snapshot.reference.failures})`}`);
  if (progress.state === 'training') parts.push(`ETA ${formatClock(progress.etaMs)}`);
  return parts.join(' · ');
}
