/** The JSON events a `nabla … --json` process printed, and the questions tests ask of them. */
export type Events = Array<Record<string, unknown>>;

export const ofType = (events: Events, type: string): Events => events.filter((e) => e.event === type);

/** The parameter hash after every step, in order. */
export const stepHashes = (events: Events): string[] => ofType(events, 'step').map((e) => e.paramHash as string);
