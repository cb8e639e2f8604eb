import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { brailleChart, progressBar, resample, sparkline, stackedBar } from './charts.js';

describe('terminal charts', () => {
  test.prop([fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 500 }), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 20 })])(
    'a braille chart is always exactly width × height cells', (values, width, height) => {
      const rows = brailleChart(values, width, height);
      expect(rows).toHaveLength(height);
      for (const row of rows) expect([...row]).toHaveLength(width);
    });

  it('draws a rising series from the bottom left to the top right', () => {
    const rows = brailleChart([0, 1, 2, 3], 4, 2);
    expect(rows[1][0]).not.toBe(' ');
    expect(rows[0][3]).not.toBe(' ');
    expect(rows[0][0]).toBe(' ');
    expect(rows[1][3]).toBe(' ');
  });

  it('draws a constant series as a level line rather than nothing', () => {
    const rows = brailleChart([5, 5, 5], 6, 3);
    expect(rows.filter((row) => row.trim() !== '')).toHaveLength(1);
  });

  it('averages long series down to the points it can draw', () => {
    expect(resample([1, 3, 5, 7], 2)).toEqual([2, 6]);
    expect(resample([1, 2], 5)).toEqual([1, 2]);
  });

  test.prop([fc.double({ min: -1, max: 2, noNaN: true }), fc.integer({ min: 1, max: 200 })])('a progress bar is always exactly its width', (fraction, width) => {
    expect([...progressBar(fraction, width)]).toHaveLength(width);
  });

  it('fills a progress bar in eighths of a cell', () => {
    expect(progressBar(0, 4)).toBe('░░░░');
    expect(progressBar(1, 4)).toBe('████');
    expect(progressBar(0.5, 4)).toBe('██░░');
    expect(progressBar(1 / 8, 4)).toBe('▌░░░');
    expect(progressBar(1 / 16, 4)).toBe('▎░░░');
  });

  test.prop([fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 200 })])(
    'a stacked bar is always exactly its width', (values, width) => {
      expect([...stackedBar(values.map((value, i) => ({ value, char: 'abcdef'[i] })), width)]).toHaveLength(width);
    });

  it('splits a stacked bar in proportion to its parts', () => {
    expect(stackedBar([{ value: 3, char: '█' }, { value: 1, char: '░' }], 8)).toBe('██████░░');
    expect(stackedBar([{ value: 0, char: '█' }], 3)).toBe('···');
  });

  it('right-aligns a sparkline of the most recent values', () => {
    expect(sparkline([0, 8], 4)).toBe('  ▁█');
    expect(sparkline([1, 2, 3, 4, 5, 6], 3)).toHaveLength(3);
  });
});
