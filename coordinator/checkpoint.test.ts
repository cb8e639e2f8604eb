import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLayout, zeroParams } from '../shared/network/layout.js';
import { CHECKPOINT_FORMAT, checkpointFileText, readCheckpoint, writeCheckpoint, type JobIdentity } from './checkpoint.js';
import { initialPosition } from './trainer.js';

const layout = createLayout([3, 4, 2]);
const job: JobIdentity = {
  sizes: [3, 4, 2], batch: 10, eta: 3, seed: 1, shuffle: true, maxChunks: 8, trainSamples: 100, cost: 'quadratic',
  lambda: 0, etaSchedule: 'constant', plateauEpochs: 5, stopAfterEpochs: 0, dtype: 'float64',
};

function written(): string {
  const params = zeroParams(layout);
  params.weights.forEach((_, i) => { params.weights[i] = Math.sin(i) / 7; });
  // biases[0] is −0, which plain JSON.stringify writes as 0.
  params.biases.forEach((_, i) => { params.biases[i] = -i / 3; });
  return writeCheckpoint(mkdtempSync(join(tmpdir(), 'nabla-ckpt-')), { ...initialPosition(1, 3), step: 20 }, job, layout, params, 3);
}

/** Rewrites the checkpoint's body and its checksum, as another nabla (or a careless hand) would have written it. */
function rewrite(path: string, edit: (body: Record<string, unknown>) => void): void {
  const body = JSON.parse(JSON.parse(readFileSync(path, 'utf8')).body);
  edit(body);
  writeFileSync(path, checkpointFileText(JSON.stringify(body)));
}

describe('checkpoints', () => {
  it('read back the parameters and position they were written with', () => {
    const path = written();
    const checkpoint = readCheckpoint(path);
    expect(checkpoint.position.step).toBe(20);
    expect(checkpoint.params.weights[5]).toBe(Math.sin(5) / 7);
    expect(checkpoint.params.biases[1]).toBe(-1 / 3);
    expect(Object.is(checkpoint.params.biases[0], -0)).toBe(true);
    expect(JSON.parse(JSON.parse(readFileSync(path, 'utf8')).body).format).toBe(CHECKPOINT_FORMAT);
  });

  it('refuse parameters that do not match their paramHash, even under a valid checksum', () => {
    const path = written();
    rewrite(path, (body) => { body.paramHash = '0123456789abcdef'; });
    expect(() => readCheckpoint(path)).toThrow('its parameters do not match its paramHash');
  });

  it('still read format 1, whose paramHash came from an earlier fingerprint function', () => {
    const path = written();
    rewrite(path, (body) => { body.format = 'nabla-checkpoint/1'; body.paramHash = 'fb2d3a11c0ffee00'; });
    expect(readCheckpoint(path).position.step).toBe(20);
  });

  it('name the formats they read when given another', () => {
    const path = written();
    rewrite(path, (body) => { body.format = 'nabla-checkpoint/9'; });
    expect(() => readCheckpoint(path)).toThrow('format "nabla-checkpoint/9", this nabla reads "nabla-checkpoint/2" and "nabla-checkpoint/1"');
  });
});
