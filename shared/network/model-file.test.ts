import { describe, expect, it } from 'vitest';
import { createLayout, zeroParams } from './layout.js';
import { ModelFileError, modelFromJson, modelToJson } from './model-file.js';

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
