import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLayout, zeroParams } from './layout.js';
import { ModelFileError, modelFromJson, modelToJson, readModelFile, writeModelFile } from './model-file.js';

describe('model file cost', () => {
  const layout = createLayout([2, 1]);
  const json = (extra: Record<string, unknown>) => modelToJson(layout, zeroParams(layout), extra);

  it('defaults to the seed\'s quadratic cost and reads ours and network2\'s names', () => {
    expect(modelFromJson(json({}), 'm.json').cost).toBe('quadratic');
    expect(modelFromJson(json({ cost: 'cross-entropy' }), 'm.json').cost).toBe('cross-entropy');
    expect(modelFromJson(json({ cost: 'CrossEntropyCost' }), 'm.json').cost).toBe('cross-entropy');
    expect(modelFromJson(json({ cost: 'QuadraticCost' }), 'm.json').cost).toBe('quadratic');
  });

  it('refuses an unknown cost, naming the accepted ones', () => {
    expect(() => modelFromJson(json({ cost: 'hinge' }), 'm.json')).toThrow(ModelFileError);
    expect(() => modelFromJson(json({ cost: 'hinge' }), 'm.json')).toThrow('m.json: "cost" must be one of quadratic, cross-entropy');
  });
});

describe('model file numbers', () => {
  it('come back bit for bit, −0 included (written as -0.0, which JSON.stringify would write as 0)', () => {
    const layout = createLayout([3, 2]);
    const params = zeroParams(layout);
    params.weights.set([-0, 0.1, -1 / 3, 5e-324, -0, 1e300]);
    params.biases.set([0, -0]);
    const path = join(mkdtempSync(join(tmpdir(), 'nabla-model-')), 'm.json');
    writeModelFile(path, layout, params);
    expect(readFileSync(path, 'utf8')).toContain('[[-0.0,0.1,-0.3333333333333333],[5e-324,-0.0,1e+300]]');
    const back = readModelFile(path).params;
    expect([...back.weights].map((v) => Object.is(v, -0))).toEqual([true, false, false, false, true, false]);
    expect(back.weights).toEqual(params.weights);
    expect(Object.is(back.biases[0], 0) && Object.is(back.biases[1], -0)).toBe(true);
  });
});
