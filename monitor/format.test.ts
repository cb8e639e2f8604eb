import { describe, expect, it } from 'vitest';
import { fixtureSnapshot } from './snapshot-fixture.js';
import { jobOptionsText, formatAge, formatBytes, formatClock, formatMs, formatRate, padLeft, padRight, sanitize, truncate, visibleLength } from './format.js';

describe('formatting for the terminal', () => {
  it('shortens rates, bytes, times and ages to a few characters', () => {
    expect([formatRate(0), formatRate(7.25), formatRate(512), formatRate(12_345), formatRate(2.5e6)]).toEqual(['0', '7.3', '512', '12.3k', '2.50M']);
    expect([formatBytes(512), formatBytes(1536), formatBytes(461e6), formatBytes(3.4e9)]).toEqual(['512B', '1.5k', '461M', '3.4G']);
    expect([formatMs(0.42), formatMs(12.34), formatMs(123.4), formatMs(1234), formatMs(125_000)]).toEqual(['0.42ms', '12.3ms', '123ms', '1.23s', '2:05']);
    expect([formatAge(300), formatAge(12_000), formatAge(300_000)]).toEqual(['0.3s', '12s', '5m']);
    expect([formatClock(65_000), formatClock(3_725_000), formatClock(null)]).toEqual(['1:05', '1:02:05', '--:--']);
  });

  it('measures and cuts text by what the terminal shows, keeping colour codes', () => {
    const red = '\x1b[31mhello world\x1b[0m';
    expect(visibleLength(red)).toBe(11);
    expect(truncate(red, 6)).toBe('\x1b[31mhello…\x1b[0m');
    expect(visibleLength(truncate(red, 6))).toBe(6);
    expect(truncate('abc', 3)).toBe('abc');
    expect(padRight('ab', 4)).toBe('ab  ');
    expect(padLeft('ab', 4)).toBe('  ab');
    expect(padLeft('⠁⠂⠃', 4)).toBe(' ⠁⠂⠃');
  });

  it('defuses control characters from the wire (a worker name cannot drive the terminal)', () => {
    expect(sanitize('evil\x1b[2Jname\n')).toBe('evil?[2Jname?');
  });

  it('names the cost, λ and float32 of a job, and nothing for the seed\'s defaults or an older coordinator', () => {
    const job = fixtureSnapshot().job as NonNullable<ReturnType<typeof fixtureSnapshot>['job']>;
    expect(jobOptionsText({ ...job, cost: 'cross-entropy', lambda: 5 })).toBe(' · cross-entropy, λ 5');
    expect(jobOptionsText({ ...job, cost: 'quadratic', lambda: 0.1 })).toBe(' · λ 0.1');
    expect(jobOptionsText({ ...job, cost: 'quadratic', lambda: 0 })).toBe('');
    expect(jobOptionsText({ ...job, cost: undefined, lambda: undefined })).toBe('');
    expect(jobOptionsText({ ...job, cost: 'cross-entropy', lambda: 5, dtype: 'float32' })).toBe(' · cross-entropy, λ 5, float32');
    expect(jobOptionsText({ ...job, cost: 'quadratic', lambda: 0, dtype: 'float64' })).toBe('');
  });
});
