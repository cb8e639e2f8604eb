import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { renderDashboard, type ConnectionView } from './dashboard.js';
import { visibleLength } from './format.js';
import { fixtureSnapshot, fixtureWorker } from './snapshot-fixture.js';

const connected: ConnectionView = { url: 'ws://10.0.0.5:8080', state: 'connected' };

describe('renderDashboard', () => {
  it('fits 80×24 exactly and shows every section', () => {
    const lines = renderDashboard(fixtureSnapshot(), { columns: 80, rows: 24, connection: connected });
    expect(lines).toHaveLength(24);
    for (const line of lines) expect(visibleLength(line), line).toBeLessThanOrEqual(80);
    const screen = lines.join('\n');
    expect(screen).toContain('nabla monitor  ws://10.0.0.5:8080  ● connected  · training');
    expect(screen).toMatch(/^job \[784,30,10\] · batch 10 · η 3 · 30 epochs/m);
    expect(screen).toMatch(/^epoch 3\/30  step 1800\/24000 █+[▏▎▍▌▋▊▉]?░+ 7\.5%  0:13 elapsed  ETA 2:34$/m);
    expect(screen).toMatch(/^throughput 4\.85k samples\/s · 485 steps\/s/m);
    expect(screen).toMatch(/cost 0\.1\d+ +test accuracy 84\.40% +samples\/s 4\.85k/);
    expect(screen).toMatch(/[\u2801-\u28ff]/);
    expect(screen).toMatch(/^▶w1 +127\.0\.0\.1:40001 +idle +4 +31\.0k /m);
    expect(screen).toMatch(/^ w2 +127\.0\.0\.1:40002 +busy +4 +32\.0k /m);
    expect(screen).toMatch(/^step time 2\.38ms\/step █+▓+▒+░+$/m);
    expect(screen).toContain('compute 7%');
    expect(screen).toMatch(/^reference wasm · 18 checks, 0 failed · step 1800: max rel err 1\.5e-5 · PASS$/m);
    expect(screen).toContain('epoch 1: accuracy 65.50%, cost 0.3170');
    expect(lines[23]).toBe('q quit · params 139530daaf23fdb0');
  });

  it('marks the slowest worker', () => {
    const snapshot = fixtureSnapshot({ workers: [fixtureWorker(1), fixtureWorker(2, { samplesPerSecond: 900 }), fixtureWorker(3)] });
    const rows = renderDashboard(snapshot, { columns: 80, rows: 24, connection: connected }).filter((line) => /^[ ▶]w\d/.test(line));
    expect(rows.map((row) => row.slice(0, 3))).toEqual([' w1', '▶w2', ' w3']);
  });

  it('keeps the slowest worker on screen when there are more workers than rows', () => {
    const workers = Array.from({ length: 40 }, (_, i) => fixtureWorker(i + 1, i === 36 ? { samplesPerSecond: 10 } : {}));
    const lines = renderDashboard(fixtureSnapshot({ workers }), { columns: 80, rows: 24, connection: connected });
    expect(lines).toHaveLength(24);
    expect(lines.some((line) => line.startsWith('▶w37'))).toBe(true);
    expect(lines.some((line) => /… and \d+ more workers/.test(line))).toBe(true);
  });

  it('uses more room when it has it: taller charts, names and long column titles', () => {
    const small = renderDashboard(fixtureSnapshot(), { columns: 80, rows: 24, connection: connected });
    const large = renderDashboard(fixtureSnapshot(), { columns: 160, rows: 50, connection: connected });
    const chartRows = (lines: string[]): number => lines.filter((line) => /[┤│]/.test(line)).length;
    expect(chartRows(large)).toBeGreaterThan(chartRows(small));
    expect(large.join('\n')).toMatch(/ name +state .* compute +transfer /);
    expect(large.join('\n')).toContain('host-1/1001');
  });

  it('shows how arrays travel and where parameters come from when the terminal has room, blank when not reported', () => {
    const workers = [
      fixtureWorker(1, { sharedMemory: true, ownUpdates: true }),
      fixtureWorker(2, { sharedMemory: false, ownUpdates: false }),
      fixtureWorker(3),
    ];
    const rowsAt = (columns: number): string[] =>
      renderDashboard(fixtureSnapshot({ workers }), { columns, rows: 30, connection: connected }).filter((line) => /^[ ▶](id|w\d) /.test(line));
    const [header, own, sent, unknown] = rowsAt(120);
    expect(header).toMatch(/ name +state +via +params +shard /);
    expect(own).toMatch(/ (busy|idle) +shm +own +4 /);
    expect(sent).toMatch(/ (busy|idle) +sock +coord +4 /);
    expect(unknown).toMatch(/ (busy|idle) +4 /);
    // Narrower, the name column comes first (workers on other machines are known by it).
    expect(rowsAt(100)[0]).toMatch(/ name +state +shard /);
    expect(rowsAt(80)[0]).not.toContain('via');
  });

  it('says it is reconnecting, and keeps showing the last state', () => {
    const lines = renderDashboard(fixtureSnapshot(), {
      columns: 80, rows: 24, connection: { url: 'ws://10.0.0.5:8080', state: 'reconnecting', detail: 'connection refused; retrying in 2 s (attempt 3)' },
    });
    expect(lines[0]).toContain('○ reconnecting');
    expect(lines[23]).toMatch(/^⟳ reconnecting: connection refused; retrying in 2 s \(attempt 3\) · showing the l…$/);
    expect(lines.join('\n')).toMatch(/^▶w1 /m);
  });

  it('after training, says so and how to leave', () => {
    const done = fixtureSnapshot({ progress: { state: 'done', epoch: 30, step: 24000, elapsedMs: 200_000, etaMs: null } });
    const lines = renderDashboard(done, { columns: 80, rows: 24, connection: { url: 'ws://h:1', state: 'finished', detail: 'training finished' } });
    expect(lines[23]).toBe('training finished — press q');
    expect(lines[2]).toMatch(/100\.0%  3:20 elapsed  finished$/);
  });

  it('waits for the first snapshot without drawing empty tables', () => {
    const lines = renderDashboard(null, { columns: 80, rows: 24, connection: { url: 'ws://h:1', state: 'connecting' } });
    expect(lines).toHaveLength(24);
    expect(lines.join('\n')).toContain('waiting for the first status from ws://h:1…');
  });

  it('does not let text from the wire reach the terminal as control sequences', () => {
    const snapshot = fixtureSnapshot({ workers: [fixtureWorker(1, { name: '\x1b[2Jevil' }), fixtureWorker(2)], events: [{ timeMs: 0, text: 'x\x1b]0;title\x07y' }] });
    const screen = renderDashboard(snapshot, { columns: 160, rows: 40, connection: connected }).join('\n');
    expect(screen).not.toContain('\x1b');
    expect(screen).toContain('?[2Jevil');
  });

  it('colours only when asked, at the same visible width', () => {
    const plain = renderDashboard(fixtureSnapshot(), { columns: 80, rows: 24, connection: connected });
    const color = renderDashboard(fixtureSnapshot(), { columns: 80, rows: 24, connection: connected, color: true });
    expect(plain.join('')).not.toContain('\x1b');
    expect(color.join('')).toContain('\x1b[');
    expect(color.map(visibleLength)).toEqual(plain.map(visibleLength));
  });

  it('shrinks to its summary lines, with a throughput sparkline, on a tiny terminal', () => {
    const lines = renderDashboard(fixtureSnapshot(), { columns: 50, rows: 10, connection: connected });
    expect(lines).toHaveLength(10);
    expect(lines[4]).toMatch(/^samples\/s [ ▁▂▃▄▅▆▇█]+$/);
    expect(lines[9]).toContain('q quit');
  });

  test.prop([fc.integer({ min: 20, max: 260 }), fc.integer({ min: 5, max: 90 }), fc.integer({ min: 0, max: 60 }), fc.boolean()])(
    'never draws more rows or wider lines than the terminal has', (columns, rows, workers, color) => {
      const lines = renderDashboard(fixtureSnapshot({}, workers), { columns, rows, connection: connected, color });
      expect(lines).toHaveLength(rows);
      for (const line of lines) expect(visibleLength(line)).toBeLessThanOrEqual(columns);
    });
});
