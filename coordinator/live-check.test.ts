import { describe, expect, it } from 'vitest';
import { AUTO_CHECK, autoCheckDue } from './live-check.js';

describe('--check-every auto', () => {
  const idle = { lastStep: 0, inFlight: 0, referenceMs: 0, elapsedMs: 1000 };

  it('checks no sooner than minSteps after the last check', () => {
    expect(autoCheckDue(AUTO_CHECK.minSteps - 1, idle)).toBe(false);
    expect(autoCheckDue(AUTO_CHECK.minSteps, idle)).toBe(true);
    expect(autoCheckDue(AUTO_CHECK.minSteps + 250, { ...idle, lastStep: 250 })).toBe(true);
    expect(autoCheckDue(AUTO_CHECK.minSteps + 249, { ...idle, lastStep: 250 })).toBe(false);
  });

  it('never queues a check behind a running one', () => {
    expect(autoCheckDue(10_000, { ...idle, inFlight: 1 })).toBe(false);
  });

  it("keeps the checks' time within its share of the training time", () => {
    const elapsedMs = 10_000;
    const budget = AUTO_CHECK.shareOfTime * elapsedMs;
    expect(autoCheckDue(10_000, { ...idle, elapsedMs, referenceMs: budget })).toBe(true);
    expect(autoCheckDue(10_000, { ...idle, elapsedMs, referenceMs: budget + 1 })).toBe(false);
    // Once training has run long enough for the share to cover them, checks resume.
    expect(autoCheckDue(10_000, { ...idle, elapsedMs: elapsedMs * 2, referenceMs: budget + 1 })).toBe(true);
  });
});
