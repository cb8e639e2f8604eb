import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../shared/usage-error.js';
import { fixtureSnapshot } from './snapshot-fixture.js';
import { checkReportPath, writeRunReport } from './write-report.js';

describe('the --report file', () => {
  it('is written whole, titled after the job, with no temporary file left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-report-'));
    const path = join(dir, 'run.html');
    writeRunReport(path, { timeline: [], snapshot: () => fixtureSnapshot() }, { testAccuracy: 0.93 });
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<title>nabla run: [784,30,10] on bundled MNIST digits</title>');
    expect(html).toContain('93.00%');
    expect(readdirSync(dir)).toEqual(['run.html']);
  });

  it('is checked before training, so a long run cannot end with a report it cannot write', () => {
    expect(checkReportPath(join(tmpdir(), 'r.html'))).toBe(join(tmpdir(), 'r.html'));
    expect(() => checkReportPath('/nonexistent-dir/r.html')).toThrow(UsageError);
    expect(() => checkReportPath('/nonexistent-dir/r.html')).toThrow('--report /nonexistent-dir/r.html: cannot write to /nonexistent-dir (ENOENT)');
  });
});
