// Tests for shared/protocol/monitor-validate.ts (kept under monitor/: this change may add no other files to shared/).
import { fc, test } from '@fast-check/vitest';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encode } from '../shared/protocol/codec.js';
import { ProtocolError } from '../shared/protocol/errors.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import { decodeToMonitor } from '../shared/protocol/monitor-validate.js';
import { fixtureSnapshot, fixtureWorker } from './snapshot-fixture.js';
import { refusalOf } from '../test/support/refusal.js';

const raw = new Packr({ useRecords: false, moreTypes: true });
const status = (snapshot: unknown): Uint8Array => raw.pack({ type: 'status', v: PROTOCOL_VERSION, snapshot });

const refusal = (bytes: Uint8Array): ProtocolError => refusalOf(() => decodeToMonitor(bytes));

describe('decodeToMonitor', () => {
  it('decodes what the coordinator\'s codec encodes: status, done and failure', () => {
    const snapshot = fixtureSnapshot();
    expect(decodeToMonitor(encode({ type: 'status', v: PROTOCOL_VERSION, snapshot }))).toEqual({ type: 'status', v: PROTOCOL_VERSION, snapshot });
    expect(decodeToMonitor(encode({ type: 'done', v: PROTOCOL_VERSION, reason: 'training finished' }))).toEqual({ type: 'done', v: PROTOCOL_VERSION, reason: 'training finished' });
    const failure = { type: 'failure', v: PROTOCOL_VERSION, code: 'unexpected', message: 'monitors are read-only' } as const;
    expect(decodeToMonitor(encode(failure))).toEqual(failure);
  });

  it('accepts the nulls a snapshot has before the job starts', () => {
    const snapshot = fixtureSnapshot({ job: null, reference: null, progress: { state: 'waiting', epoch: 0, step: 0, elapsedMs: 10, etaMs: null }, workers: [], epochs: [] });
    expect(decodeToMonitor(status(snapshot))).toEqual({ type: 'status', v: PROTOCOL_VERSION, snapshot });
  });

  it('drops fields it does not know (a newer coordinator may add optional ones)', () => {
    const decoded = decodeToMonitor(status({ ...fixtureSnapshot(), futureField: 1 }));
    expect(decoded.type === 'status' && 'futureField' in decoded.snapshot).toBe(false);
  });

  it('reads the optional cost and λ of the job, and refuses them of the wrong kind', () => {
    const snapshot = fixtureSnapshot();
    const job = { ...(snapshot.job as object), cost: 'cross-entropy', lambda: 5 };
    const decoded = decodeToMonitor(status({ ...snapshot, job }));
    expect(decoded.type === 'status' && decoded.snapshot.job).toMatchObject({ cost: 'cross-entropy', lambda: 5 });
    expect(refusal(status({ ...snapshot, job: { ...job, cost: 7 } })).message).toContain('snapshot.job.cost must be a string');
    expect(refusal(status({ ...snapshot, job: { ...job, lambda: 'five' } })).message).toContain('snapshot.job.lambda must be a number');
  });

  it.each(['sharedMemory', 'ownUpdates'] as const)("reads a worker's optional %s flag, and refuses one that is not true or false", (flag) => {
    const snapshot = fixtureSnapshot({ workers: [fixtureWorker(1, { [flag]: true }), fixtureWorker(2)] });
    const decoded = decodeToMonitor(status(snapshot));
    expect(decoded.type === 'status' && decoded.snapshot.workers.map((w) => w[flag])).toEqual([true, undefined]);
    const bad = { ...snapshot, workers: [{ ...snapshot.workers[0], [flag]: 'yes' }] };
    expect(refusal(status(bad)).message).toBe(`snapshot.workers[0].${flag} must be true or false, got string`);
  });

  it('refuses a wrong protocol version, naming both versions', () => {
    const error = refusal(raw.pack({ type: 'status', v: 7, snapshot: fixtureSnapshot() }));
    expect(error.code).toBe('version-mismatch');
    expect(error.message).toContain('v7');
    expect(error.message).toContain(`v${PROTOCOL_VERSION}`);
  });

  it('refuses messages meant for workers', () => {
    const error = refusal(raw.pack({ type: 'shard', v: PROTOCOL_VERSION }));
    expect(error.code).toBe('unexpected');
    expect(error.message).toBe('a monitor does not expect "shard" messages (only status, done, failure)');
  });

  it('refuses a non-finite number, naming where it is', () => {
    const snapshot = fixtureSnapshot();
    snapshot.workers[1].samplesPerSecond = Infinity;
    const error = refusal(status(snapshot));
    expect(error.code).toBe('not-finite');
    expect(error.message).toBe('snapshot.workers[1].samplesPerSecond is Infinity');
    const history = fixtureSnapshot();
    history.costHistory[3] = NaN;
    expect(refusal(status(history)).message).toBe('snapshot.costHistory[3] is NaN');
  });

  it('refuses fields of the wrong type: a map where an array belongs, a string where a number does', () => {
    expect(refusal(status({ ...fixtureSnapshot(), workers: { 0: 'w1' } })).message).toBe('snapshot.workers must be an array, got object');
    const error = refusal(status({ ...fixtureSnapshot(), progress: { ...fixtureSnapshot().progress, step: '12' } }));
    expect(error.code).toBe('bad-field');
    expect(error.message).toBe('snapshot.progress.step must be a number, got string');
    expect(refusal(status({ ...fixtureSnapshot(), progress: { ...fixtureSnapshot().progress, state: 'dancing' } })).message)
      .toBe('snapshot.progress.state must be waiting, training or done, got "dancing"');
    expect(refusal(status(null)).message).toBe('snapshot must be a map, got null');
  });

  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 255 }), fc.nat()])(
    'truncated or corrupted frames always throw ProtocolError, never a TypeError', (cut, value, where) => {
      const bytes = encode({ type: 'status', v: PROTOCOL_VERSION, snapshot: fixtureSnapshot() });
      const corrupted = Uint8Array.from(bytes.subarray(0, Math.min(cut, bytes.length)));
      if (corrupted.length > 0) corrupted[where % corrupted.length] = value;
      try {
        decodeToMonitor(corrupted);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    });
});
