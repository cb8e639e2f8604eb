import { describe, expect, it } from 'vitest';
import { UsageError } from '../shared/usage-error.js';
import { RESULTS_AHEAD } from '../shared/protocol/messages.js';
import { parseListen, toTrainingConfig, type TrainingArgs } from './config.js';

const defaults: TrainingArgs = {
  data: 'mnist', sizes: '784,30,10', epochs: 30, batch: 10, eta: 3, seed: 1, shuffle: true, json: false, kernel: 'auto', dtype: 'float64', fanOut: 'auto', mixedKernels: 'warn', shm: true,
  chunks: 'auto', listen: '127.0.0.1:0', heartbeatTimeout: 30, shardTimeout: 60, maxConnections: 256, minWorkers: 1,
  checkpointEvery: 100, keepCheckpoints: 3, resume: false, checkEvery: 'auto', checkTolerance: 2e-3, onMismatch: 'stop', insecure: false, prefetch: 'auto', shuffleBuffer: 0, memoryLimit: 1024, cache: false, skipBadRows: false,
  cost: 'quadratic', lambda: 0, stopAfter: 0, etaSchedule: 'constant', plateau: 5,
};

describe('toTrainingConfig', () => {
  it('converts the defaults', () => {
    const config = toTrainingConfig(defaults);
    expect(config.layout.sizes).toEqual([784, 30, 10]);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 0, heartbeatTimeoutMs: 30_000, maxChunks: 2, chunksAuto: true });
  });

  it.each([
    [{ sizes: '784,,10' }, '--sizes must be comma-separated integers such as 784,30,10, got "784,,10"'],
    [{ sizes: '784' }, 'sizes must list at least two layers'],
    [{ eta: -1 }, '--eta must be a positive number, got -1'],
    [{ batch: 0 }, '--batch must be an integer from 1 to'],
    [{ epochs: 1.5 }, '--epochs must be an integer'],
    [{ listen: 'localhost' }, '--listen must be HOST:PORT'],
    [{ kernel: 'gpu' }, '--kernel must be one of auto, blas, js'],
    [{ resume: true }, '--resume needs --checkpoint-dir DIR'],
    [{ listen: '0.0.0.0:8080' }, 'a token is required: pass --token SECRET (or set NABLA_TOKEN'],
    [{ token: 'short' }, '--token must be at least 8 characters'],
    [{ tlsCert: 'cert.pem' }, '--tls-cert and --tls-key go together'],
    [{ checkEvery: '-1' }, '--check-every must be auto or a whole number of steps'],
    [{ checkEvery: 'often' }, '--check-every must be auto or a whole number of steps'],
    [{ onMismatch: 'ignore' }, '--on-mismatch must be stop or warn'],
    [{ chunks: '0' }, '--chunks must be auto or an integer from 1 to 1024, got "0"'],
    [{ chunks: 'many' }, '--chunks must be auto or an integer from 1 to 1024, got "many"'],
    [{ mixedKernels: 'allow' }, '--mixed-kernels must be one of warn, refuse, got "allow"'],
    [{ cost: 'hinge' }, '--cost must be one of quadratic, cross-entropy, got "hinge"'],
    [{ cost: 'CrossEntropyCost' }, '--cost must be one of quadratic, cross-entropy'],
    [{ lambda: -0.1 }, '--lambda must be a number ≥ 0'],
    [{ lambda: Number.NaN }, '--lambda must be a number ≥ 0'],
    [{ etaSchedule: 'cosine' }, '--eta-schedule must be one of constant, halve-on-plateau'],
    [{ stopAfter: -1 }, '--stop-after must be an integer from 0'],
    [{ plateau: 0 }, '--plateau must be an integer from 1'],
    [{ fanOut: 'some' }, '--fan-out must be auto, all or a number of workers per step, got "some"'],
    [{ fanOut: '0' }, '--fan-out must be auto, all or a number of workers per step, got "0"'],
    [{ fanOut: '1.5' }, '--fan-out must be auto, all or a number of workers per step, got "1.5"'],
  ] as Array<[Partial<TrainingArgs>, string]>)('refuses %o with a message saying what to type', (override, message) => {
    expect(() => toTrainingConfig({ ...defaults, ...override })).toThrow(UsageError);
    expect(() => toTrainingConfig({ ...defaults, ...override })).toThrow(message);
  });

  it('derives --chunks auto from the batch size: 1, 2, 4 or 8 chunks of at least 4 samples', () => {
    expect([1, 4, 7, 8, 10, 15, 16, 24, 31, 32, 128, 1000].map((batch) => toTrainingConfig({ ...defaults, batch }).maxChunks)).toEqual([1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8]);
    expect(toTrainingConfig({ ...defaults, chunks: '16', batch: 10 })).toMatchObject({ maxChunks: 16, chunksAuto: false });
  });

  it('reads --fan-out as auto, all or a number of workers', () => {
    expect(['auto', 'all', '1', '12'].map((fanOut) => toTrainingConfig({ ...defaults, fanOut }).fanOut)).toEqual(['auto', 'all', 1, 12]);
  });

  it('accepts a non-loopback address with a token or with --insecure', () => {
    expect(toTrainingConfig({ ...defaults, listen: '0.0.0.0:8080', token: 'secret-token' }).token).toBe('secret-token');
    expect(toTrainingConfig({ ...defaults, listen: '0.0.0.0:8080', insecure: true }).token).toBeNull();
  });

  it('prefetches 4 steps by default: as many as a worker may run ahead of its last shard, and one more', () => {
    expect(toTrainingConfig(defaults).prefetch).toBe(RESULTS_AHEAD + 1);
    expect(RESULTS_AHEAD + 1).toBe(4);
    expect(toTrainingConfig({ ...defaults, prefetch: '0' }).prefetch).toBe(0);
    expect(toTrainingConfig({ ...defaults, prefetch: '3' }).prefetch).toBe(3);
    expect(() => toTrainingConfig({ ...defaults, prefetch: 'lots' })).toThrow('--prefetch must be auto or a whole number of steps');
  });

  it('reads --init as a weight scheme or a model file', () => {
    expect(toTrainingConfig(defaults)).toMatchObject({ initScheme: 'standard', initPath: null });
    expect(toTrainingConfig({ ...defaults, init: 'scaled' })).toMatchObject({ initScheme: 'scaled', initPath: null });
    expect(toTrainingConfig({ ...defaults, init: 'model.json' })).toMatchObject({ initScheme: 'standard', initPath: 'model.json' });
    expect(toTrainingConfig({ ...defaults, init: './scaled' })).toMatchObject({ initPath: './scaled' });
  });

  it('parses IPv6 listen addresses', () => {
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
  });
});
