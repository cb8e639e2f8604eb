import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../shared/atomic-file.js';
import type { StatusSnapshot } from '../shared/protocol/status.js';
import { usage } from '../shared/usage-error.js';
import { renderReport, type ReportInput, type ReportSummary, type ReportTimelinePoint } from './report.js';

/** Writes the HTML report to `path` (atomically: a half-written report never replaces a good one). */
export function writeReport(path: string, input: ReportInput): void {
  writeFileAtomic(path, renderReport(input));
}

/** What a run's monitor feed keeps for the report (coordinator/monitor-feed.ts's MonitorFeed has both). */
export interface ReportSource {
  readonly timeline: readonly ReportTimelinePoint[];
  snapshot(): StatusSnapshot;
}

/** The end-of-run report of `--report FILE.html`: the feed's history, its last snapshot and the run's `done` summary. */
export function writeRunReport(path: string, feed: ReportSource, summary?: ReportSummary): void {
  const snapshot = feed.snapshot();
  const job = snapshot.job;
  const title = job ? `nabla run: [${job.sizes.join(',')}] on ${job.data.split(':')[0]}` : 'nabla run';
  writeReport(path, { timeline: feed.timeline, snapshot, title, ...(summary ? { summary } : {}) });
}

/** Checks `--report PATH` before training starts, so a long run does not end with a report it cannot write. */
export function checkReportPath(path: string): string {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) usage(`--report ${path}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code) throw error;
    usage(`--report ${path}: cannot write to ${dir} (${code})`);
  }
  return path;
}
