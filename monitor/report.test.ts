import { describe, expect, it } from 'vitest';
import { renderReport, timelineFromSnapshots, type ReportTimelinePoint } from './report.js';
import { fixtureSnapshot, fixtureWorker } from './snapshot-fixture.js';

const timeline: ReportTimelinePoint[] = Array.from({ length: 120 }, (_, i) => ({
  elapsedMs: 500 * (i + 1), samplesPerSecond: 4000 + 500 * Math.sin(i / 5),
  stepTime: { computeMs: 0.2, transferMs: 1.2 + 0.1 * Math.cos(i), reduceMs: 0.5, idleMs: 0.3 },
}));

describe('renderReport', () => {
  it('is one self-contained page of SVG charts: no scripts, styles or images from elsewhere', () => {
    const html = renderReport({ timeline, snapshot: fixtureSnapshot(), title: 'run 7' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBe(7);
    for (const heading of ['Test accuracy per epoch', 'Training cost per epoch', 'Throughput over the run', 'Where a step&#39;s time went', 'Workers']) {
      expect(html).toContain(heading);
    }
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
  });

  it('escapes everything that came from the cluster', () => {
    const snapshot = fixtureSnapshot({ workers: [fixtureWorker(1, { name: '<img src=x onerror=alert(1)>' }), fixtureWorker(2)], events: [{ timeMs: 0, text: '</li><script>x</script>' }] });
    const html = renderReport({ timeline, snapshot, title: '<b>t</b>' });
    expect(html).not.toMatch(/<img|<script|<b>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('says which workers moved their arrays through shared memory and which over their socket', () => {
    const snapshot = fixtureSnapshot({ workers: [fixtureWorker(1, { sharedMemory: true }), fixtureWorker(2, { sharedMemory: false }), fixtureWorker(3)] });
    const cells = [...renderReport({ timeline, snapshot, title: 't' }).matchAll(/<td>openblas<\/td><td>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells).toEqual(['shared memory', 'socket', '']);
  });

  it("says which workers hold parameters from their own update and which the coordinator's", () => {
    const snapshot = fixtureSnapshot({ workers: [fixtureWorker(1, { ownUpdates: true }), fixtureWorker(2, { ownUpdates: false }), fixtureWorker(3)] });
    const html = renderReport({ timeline, snapshot, title: 't' });
    expect(html).toContain('<th>arrays via</th><th>parameters from</th>');
    const cells = [...html.matchAll(/<td>openblas<\/td><td>[^<]*<\/td><td>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells).toEqual(['its own update', 'the coordinator', '']);
  });

  it('states the outcome from the run summary when there is one', () => {
    const html = renderReport({ timeline, snapshot: fixtureSnapshot(), title: 't', summary: { testAccuracy: 0.9512, seconds: 125, steps: 24000, workersSeen: 3, reissuedShards: 2, droppedResults: 0 } });
    expect(html).toContain('95.12%');
    expect(html).toContain('2:05');
    expect(html).toContain('2 shards re-issued, 0 results dropped');
  });

  it('still renders a run that ended before its first epoch', () => {
    const html = renderReport({ timeline: [], snapshot: fixtureSnapshot({ epochs: [], costHistory: [], workers: [], events: [] }), title: 't' });
    expect(html).toContain('no data recorded');
    expect(html).toContain('No workers were connected');
  });

  it('rebuilds the timeline from the snapshots a monitor received, training ones only', () => {
    const waiting = fixtureSnapshot({ progress: { state: 'waiting', epoch: 0, step: 0, elapsedMs: 100, etaMs: null } });
    const points = timelineFromSnapshots([waiting, fixtureSnapshot()]);
    expect(points).toEqual([{ elapsedMs: 12_500, samplesPerSecond: 4850, stepTime: fixtureSnapshot().stepTime }]);
  });
});
