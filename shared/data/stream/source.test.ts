import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { loadBundledMnist } from '../mnist.js';
import type { SampleSet } from '../samples.js';
import { loadDataset } from '../spec.js';
import { readAll } from './in-memory.js';
import { openSource, parseSourceSpec } from './source.js';
import { isSameSet } from './test-support.js';
import { thrownBy } from '../../../test/support/thrown.js';

describe('parseSourceSpec', () => {
  it('parses ndjson:FILE and ndjson:- besides the in-memory forms', () => {
    expect(parseSourceSpec('ndjson:rows.ndjson')).toEqual({ kind: 'ndjson', path: 'rows.ndjson' });
    expect(parseSourceSpec('ndjson:-')).toEqual({ kind: 'ndjson', path: '-' });
    expect(parseSourceSpec('csv:-')).toEqual({ kind: 'csv', path: '-' });
    expect(parseSourceSpec('idx:/data')).toEqual({ kind: 'idx', dir: '/data' });
    expect(parseSourceSpec('mnist')).toEqual({ kind: 'mnist' });
  });

  it.each(['', 'ndjson:', 'json:x', 'data.ndjson'])('rejects %j with every accepted form', (text) => {
    const error = thrownBy(() => parseSourceSpec(text));
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `unknown data spec "${text}"; use one of: mnist (the bundled digits), idx:DIR (MNIST-style IDX files in DIR), ` +
        'csv:FILE (rows label,x1,…,xn), csv:- (CSV on stdin), ndjson:FILE (rows {"x":[…],"label":k} or {"x":[…],"y":[…]}), ' +
        'ndjson:- (NDJSON on stdin)',
    );
  });
});

describe('openSource("mnist")', () => {
  it('streams the same bundled train and test samples as loadDataset', async () => {
    const expected = await loadDataset('mnist');
    const { train, test } = await openSource('mnist');
    expect([train.name, train.count, train.inputSize, train.isReplayable]).toEqual(['bundled MNIST train', 8000, 784, true]);
    expect(test?.name).toBe('bundled MNIST test');
    expect(isSameSet(await readAll(train), expected.train)).toBe(true);
    expect(isSameSet(await readAll(test as NonNullable<typeof test>), expected.test as SampleSet)).toBe(true);
  });

  it('hands out copies, so a consumer changing a block leaves the bundled set alone', async () => {
    const { train } = await openSource('mnist');
    for await (const block of train.blocks(10)) {
      block.x.fill(7);
      break;
    }
    expect(loadBundledMnist().train.x[0]).not.toBe(7);
  });
});
