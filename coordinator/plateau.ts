/**
 * What happens between epochs when the test accuracy stops improving: network2's early-stopping and learning-rate
 * schedule exercises. Pure (state in, decision out) so it is checkpointed with the position and tested alone.
 */
export const ETA_SCHEDULES = ['constant', 'halve-on-plateau'] as const;
export type EtaSchedule = (typeof ETA_SCHEDULES)[number];

export interface PlateauRules {
  etaSchedule: EtaSchedule;
  /** halve-on-plateau halves η after this many epochs in a row without a better test accuracy. */
  plateauEpochs: number;
  /** Stop after this many epochs in a row without a better test accuracy; 0: never. */
  stopAfterEpochs: number;
}

export interface PlateauState {
  /** The learning rate of the coming epoch. */
  eta: number;
  bestAccuracy: number | null;
  bestEpoch: number;
  epochsSinceBest: number;
  /** Times η has been halved. */
  halvings: number;
}

/** The book's rule for its schedule: stop once η would fall to η₀/128 (the seventh halving). */
export const MAX_HALVINGS = 7;

export function initialPlateau(eta: number): PlateauState {
  return { eta, bestAccuracy: null, bestEpoch: 0, epochsSinceBest: 0, halvings: 0 };
}

export interface PlateauDecision {
  state: PlateauState;
  /** η was halved for the next epoch. */
  halved: boolean;
  /** Why training stops now, or null to go on. */
  stop: string | null;
}

/** The decision after `epoch` reached `accuracy` (a fraction) on the test set. */
export function afterEpoch(state: PlateauState, epoch: number, accuracy: number, rules: PlateauRules): PlateauDecision {
  const improved = state.bestAccuracy === null || accuracy > state.bestAccuracy;
  const next: PlateauState = improved
    ? { ...state, bestAccuracy: accuracy, bestEpoch: epoch, epochsSinceBest: 0 }
    : { ...state, epochsSinceBest: state.epochsSinceBest + 1 };
  const best = `best test accuracy ${((next.bestAccuracy ?? 0) * 100).toFixed(2)}% at epoch ${next.bestEpoch}`;
  let halved = false;
  if (rules.etaSchedule === 'halve-on-plateau' && !improved && next.epochsSinceBest % rules.plateauEpochs === 0) {
    if (next.halvings + 1 === MAX_HALVINGS) return { state: next, halved, stop: `η would fall to η₀/${2 ** MAX_HALVINGS} (${best})` };
    next.eta /= 2;
    next.halvings++;
    halved = true;
  }
  if (rules.stopAfterEpochs > 0 && next.epochsSinceBest >= rules.stopAfterEpochs) {
    return { state: next, halved, stop: `no better test accuracy in ${next.epochsSinceBest} epochs (${best})` };
  }
  return { state: next, halved, stop: null };
}
