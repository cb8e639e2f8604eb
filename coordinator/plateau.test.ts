import { describe, expect, it } from 'vitest';
import { afterEpoch, initialPlateau, MAX_HALVINGS, type PlateauRules, type PlateauState } from './plateau.js';

/** Runs a sequence of epoch accuracies through the rules; returns every decision. */
function play(accuracies: number[], rules: PlateauRules, eta = 1) {
  let state: PlateauState = initialPlateau(eta);
  return accuracies.map((accuracy, i) => {
    const decision = afterEpoch(state, i + 1, accuracy, rules);
    state = decision.state;
    return decision;
  });
}

const constant: PlateauRules = { etaSchedule: 'constant', plateauEpochs: 5, stopAfterEpochs: 0 };

describe('plateau rules', () => {
  it('never stops or changes η with the defaults', () => {
    const decisions = play([0.5, 0.4, 0.4, 0.3, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1], constant);
    expect(decisions.every((d) => d.stop === null && !d.halved && d.state.eta === 1)).toBe(true);
    expect(decisions.at(-1)?.state).toMatchObject({ bestAccuracy: 0.5, bestEpoch: 1, epochsSinceBest: 9 });
  });

  it('stops after N epochs without a strictly better accuracy (ties do not count as better)', () => {
    const decisions = play([0.5, 0.6, 0.6, 0.55, 0.6, 0.7], { ...constant, stopAfterEpochs: 3 });
    expect(decisions.map((d) => d.stop !== null)).toEqual([false, false, false, false, true, false]);
    expect(decisions[4].stop).toBe('no better test accuracy in 3 epochs (best test accuracy 60.00% at epoch 2)');
  });

  it('a better epoch resets the count', () => {
    const decisions = play([0.5, 0.4, 0.4, 0.6, 0.5, 0.5], { ...constant, stopAfterEpochs: 3 });
    expect(decisions.map((d) => d.state.epochsSinceBest)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(decisions.some((d) => d.stop)).toBe(false);
  });

  it('halve-on-plateau halves η after every plateau of N epochs, and stops when η would reach η₀/128', () => {
    const rules: PlateauRules = { etaSchedule: 'halve-on-plateau', plateauEpochs: 2, stopAfterEpochs: 0 };
    const decisions = play([0.9, ...Array.from({ length: 20 }, () => 0.8)], rules, 3);
    const halvedAt = decisions.flatMap((d, i) => (d.halved ? [i + 1] : []));
    expect(halvedAt).toEqual([3, 5, 7, 9, 11, 13]);
    expect(decisions[12].state.eta).toBe(3 / 64);
    const stopAt = decisions.findIndex((d) => d.stop !== null) + 1;
    expect(stopAt).toBe(15);
    expect(decisions[stopAt - 1].stop).toContain(`η₀/${2 ** MAX_HALVINGS}`);
  });

  it('does not change the state it is given (the state is checkpointed)', () => {
    const state = initialPlateau(2);
    const frozen = JSON.stringify(state);
    afterEpoch(state, 1, 0.5, { etaSchedule: 'halve-on-plateau', plateauEpochs: 1, stopAfterEpochs: 1 });
    afterEpoch({ ...state, bestAccuracy: 0.9 }, 2, 0.5, { etaSchedule: 'halve-on-plateau', plateauEpochs: 1, stopAfterEpochs: 0 });
    expect(JSON.stringify(state)).toBe(frozen);
  });
});
