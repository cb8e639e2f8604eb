import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, fixtureWorker } from './snapshot-fixture.js';
import { summaryLine } from './summary-line.js';

describe('summaryLine', () => {
  it('says in one line where training is, how fast, how well, and who is slowest', () => {
    const line = summaryLine(fixtureSnapshot({ workers: [fixtureWorker(1), fixtureWorker(2, { samplesPerSecond: 900 })] }));
    expect(line).toMatch(/^\d\d:\d\d:\d\d · training · epoch 3\/30 step 1800\/24000 \(7\.5%\) · 4\.85k samples\/s · cost 0\.1\d+ · accuracy 84\.40% · 2 workers \(slowest w2 900\/s\) · reference pass · ETA 2:34$/);
  });

  it('stays short before the job starts', () => {
    const line = summaryLine(fixtureSnapshot({ job: null, epochs: [], costHistory: [], workers: [], reference: null, progress: { state: 'waiting', epoch: 0, step: 0, elapsedMs: 0, etaMs: null } }));
    expect(line).toMatch(/^\d\d:\d\d:\d\d · waiting · 4\.85k samples\/s · 0 workers$/);
  });
});
