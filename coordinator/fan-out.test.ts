import { describe, expect, it } from 'vitest';
import { cheapest, FanOutTuner, RETUNE_STEPS, StepWorkerChoice, TRIAL_STEPS, WARMUP_STEPS } from './fan-out.js';

/** Runs steps through the tuner with a step time per fan-out; returns the fan-outs used and the choices made. */
function drive(tuner: FanOutTuner, workers: number, steps: number, stepMs: (fanOut: number) => number) {
  const used: number[] = [];
  const choices = [];
  for (let i = 0; i < steps; i++) {
    const fanOut = tuner.fanOut(workers);
    used.push(fanOut);
    const choice = tuner.stepFinished(fanOut, stepMs(fanOut));
    if (choice) choices.push(choice);
  }
  return { used, choices };
}

const trialLength = WARMUP_STEPS + TRIAL_STEPS;

describe('FanOutTuner', () => {
  it('tries every worker, then halves down to one, and keeps the fastest', () => {
    const tuner = new FanOutTuner('auto');
    const { used, choices } = drive(tuner, 5, 4 * trialLength + 10, (k) => ({ 5: 4, 3: 3, 2: 1.5, 1: 2 })[k] as number);
    expect([...new Set(used.slice(0, 4 * trialLength))]).toEqual([5, 3, 2, 1]);
    expect(choices).toEqual([{ fanOut: 2, workers: 5, trials: [
      { fanOut: 5, medianMs: 4 }, { fanOut: 3, medianMs: 3 }, { fanOut: 2, medianMs: 1.5 }, { fanOut: 1, medianMs: 2 },
    ] }]);
    expect(used.slice(4 * trialLength)).toEqual(new Array(10).fill(2));
  });

  it('with a fixed number, uses that many workers (fewer when fewer are ready) and never measures', () => {
    const tuner = new FanOutTuner(2);
    const { used, choices } = drive(tuner, 5, 2 * trialLength, () => 1);
    expect(new Set(used)).toEqual(new Set([2]));
    expect(choices).toEqual([]);
    expect(tuner.fanOut(1)).toBe(1);
  });

  it('keeps every worker unless a narrower fan-out is clearly (5%) faster', () => {
    const tuner = new FanOutTuner('auto');
    const { choices } = drive(tuner, 2, 2 * trialLength, (k) => (k === 2 ? 1.0 : 0.97));
    expect(choices[0].fanOut).toBe(2);
  });

  it('judges by the median, so a few slow steps (a GC pause, a checkpoint) do not decide', () => {
    const tuner = new FanOutTuner('auto');
    let step = 0;
    const { choices } = drive(tuner, 2, 2 * trialLength, (k) => (++step % 10 === 0 ? 50 : k === 2 ? 2 : 1));
    expect(choices[0].fanOut).toBe(1);
    expect(choices[0].trials.map((t) => t.medianMs)).toEqual([2, 1]);
  });

  it('starts over when the number of workers changes, and re-measures every RETUNE_STEPS steps', () => {
    const tuner = new FanOutTuner('auto');
    drive(tuner, 2, 2 * trialLength, (k) => k);
    expect(tuner.fanOut(2)).toBe(1);
    expect(tuner.fanOut(3)).toBe(3); // a worker joined: the next step uses all of them
    const { choices } = drive(tuner, 3, 3 * trialLength, (k) => k);
    expect(choices.map((c) => c.fanOut)).toEqual([1]);
    const later = drive(tuner, 3, RETUNE_STEPS + 1, () => 1);
    expect(later.used.at(-1)).toBe(3);
  });

  it('does not count steps run at another fan-out than the trial\'s (a re-issued step)', () => {
    const tuner = new FanOutTuner('auto');
    expect(tuner.fanOut(2)).toBe(2);
    for (let i = 0; i < 3 * trialLength; i++) expect(tuner.stepFinished(0, 1)).toBeNull();
    expect(tuner.fanOut(2)).toBe(2); // still the first trial: none of those steps counted
    const { used } = drive(tuner, 2, trialLength, () => 1);
    expect(used.every((k) => k === 2)).toBe(true);
    expect(tuner.fanOut(2)).toBe(1); // the first trial is complete now
  });

  it('with "all", or with one worker, always uses every worker', () => {
    expect(drive(new FanOutTuner('all'), 4, 200, (k) => k).used.every((k) => k === 4)).toBe(true);
    expect(drive(new FanOutTuner('auto'), 1, 50, () => 1).used.every((k) => k === 1)).toBe(true);
  });
});

describe('cheapest', () => {
  it('keeps the items of least cost, in their original order, earlier first on ties', () => {
    const workers = [{ id: 'a', ms: 0.3 }, { id: 'b', ms: 0.1 }, { id: 'c', ms: 0.2 }, { id: 'd', ms: 0.1 }];
    expect(cheapest(workers, 2, (w) => w.ms).map((w) => w.id)).toEqual(['b', 'd']);
    expect(cheapest(workers, 3, (w) => w.ms).map((w) => w.id)).toEqual(['b', 'c', 'd']);
    expect(cheapest(workers, 1, () => 0).map((w) => w.id)).toEqual(['a']);
    expect(cheapest(workers, 9, (w) => w.ms)).toEqual(workers);
  });

  it('keeps the incumbents unless an outsider is more than 20% cheaper', () => {
    const [a, b, c] = [{ id: 'a', ms: 1 }, { id: 'b', ms: 0.9 }, { id: 'c', ms: 0.79 }];
    const ids = (items: Array<{ id: string }>) => items.map((w) => w.id);
    expect(ids(cheapest([a, b], 1, (w) => w.ms, [a]))).toEqual(['a']); // 10% cheaper: a stays
    expect(ids(cheapest([a, b], 1, (w) => w.ms, [b]))).toEqual(['b']);
    expect(ids(cheapest([a, c], 1, (w) => w.ms, [a]))).toEqual(['c']); // 21% cheaper: 0.79 < 0.8
    expect(ids(cheapest([a, b, c], 2, (w) => w.ms, [a, b]))).toEqual(['b', 'c']); // c beats a, not b
  });
});

describe('StepWorkerChoice', () => {
  it('after steps of every worker (a re-tuning trial), keeps the workers of the last narrower choice', () => {
    const [a, b] = ['a', 'b'];
    const ms: Record<string, number> = { a: 1, b: 1 };
    const choice = new StepWorkerChoice<string>();
    const choose = (fanOut: number) => choice.choose([a, b], fanOut, (w) => ms[w]);
    expect(choose(1)).toEqual(['a']); // a tie: the earlier
    expect(choose(2)).toEqual(['a', 'b']);
    ms.b = 0.85; // b measured 15% cheaper during the trial: noise, a keeps the step
    expect(choose(1)).toEqual(['a']);
    expect(choose(2)).toEqual(['a', 'b']);
    ms.b = 0.7; // 30% cheaper: b takes over, and is the incumbent from then on
    expect(choose(1)).toEqual(['b']);
    ms.b = 1.1;
    expect(choose(2)).toEqual(['a', 'b']);
    expect(choose(1)).toEqual(['b']);
  });
});
