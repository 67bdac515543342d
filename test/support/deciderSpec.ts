/**
 * Decider specifications over an actor's real initialState / evolve / decide (actors/actor.ts), in the style
 * of emmett's DeciderSpecification: given these logged events, when this event, then these decisions.
 *
 *   const spec = deciderSpec(samplerActor, { config });
 *   spec.given([registered, epochStarted]).when(stepStarted).then([batchSelected]);
 *   spec.given([...]).when(e).thenNothing();
 *   spec.given([]).when(stepStarted).thenThrows(/before any DifficultyEstimated/);
 *   spec.given([...]).when(e).thenSatisfies((decisions, state) => { ... });   // for float tolerances
 *
 * No mocks: every event is validated against the catalogue and goes through the codec as the log stores it;
 * the given events get sequence numbers 1..n and `when` n + 1; all are folded with foldOne (the fold the
 * live host and replay use), and decide sees the state after `when`, as it does live. Decisions must be
 * valid events and are compared as the store holds them — type, id, cause and payload, bytes included —
 * with the wall clock (`ts`) aside. The phase the actor ends in can be checked too (`inPhase`).
 */
import { expect } from 'vitest';
import { foldOne, initialFolded, makeContext, type ActorDef, type DecideContext, type Folded, type PromptTable } from '../../actors/actor.ts';
import { makeEvent, type DareEvent, type EventType, type Logged, type PayloadOf } from '../../events/catalogue.ts';
import { decodeEvent, encodeEvent } from '../../events/codec.ts';
import type { RunConfig } from '../../events/config.ts';
import { validateEvent } from '../../events/validate.ts';

/** The run id of every spec event. */
export const SPEC_RUN = 'spec';

/** An event as an actor or the bridge would log it (ts 0: no decision reads the clock). */
export function ev<T extends EventType>(type: T, data: PayloadOf<T>, id: string, cause: string | null = null): DareEvent {
  return makeEvent(type, data, { run: SPEC_RUN, id, cause, ts: 0 }) as unknown as DareEvent;
}

export interface SpecOptions {
  config: RunConfig;
  /** prompt rows by index (DecideContext.prompt) */
  prompts?: Array<{ id: string; question: string; answer: string; category: string }>;
  blobs?: Record<string, unknown>;
  promptTable?: PromptTable;
}

/** What the store gives back: the event through the codec, validated. */
function stored(e: DareEvent, where: string): DareEvent {
  validateEvent(e, where);
  return decodeEvent(encodeEvent(e), where);
}

const withoutTs = (e: DareEvent) => ({ ...e, ts: 0 }) as DareEvent;

export class Outcome<S, P extends string> {
  private result: { decisions: DareEvent[] } | { error: unknown } | null = null;

  constructor(
    private readonly def: ActorDef<S, P>,
    private readonly folded: Folded<S, P>,
    private readonly when: Logged,
    private readonly ctx: DecideContext,
  ) {}

  private decide(): { decisions: DareEvent[] } | { error: unknown } {
    if (!this.result) {
      try {
        this.result = { decisions: this.def.decide(this.folded.state, this.when, this.ctx) };
      } catch (error) {
        this.result = { error };
      }
    }
    return this.result;
  }

  /** The decisions, failing the test if decide threw. */
  decisions(): DareEvent[] {
    const r = this.decide();
    if ('error' in r) throw new Error(`${this.def.name}: decide threw on ${this.when.event.id}: ${(r.error as Error)?.stack ?? String(r.error)}`);
    return r.decisions;
  }

  /** Exactly these decisions, in this order (ts aside); each a valid event. */
  then(expected: readonly DareEvent[]): this {
    const got = this.decisions();
    got.forEach((d, i) => validateEvent(d, `${this.def.name} decision ${i}`));
    expect(got.map(withoutTs), `${this.def.name}'s decisions on ${this.when.event.id}`).toEqual(expected.map(withoutTs));
    // and as the log holds them (replay-verify compares these bytes)
    expect(got.map((d) => encodeEvent(withoutTs(d)).toString('hex'))).toEqual(expected.map((d) => encodeEvent(withoutTs(d)).toString('hex')));
    return this;
  }

  thenNothing(): this {
    return this.then([]);
  }

  /** decide throws an error whose message matches. */
  thenThrows(message: string | RegExp): this {
    const r = this.decide();
    if (!('error' in r)) throw new Error(`${this.def.name}: decide did not throw on ${this.when.event.id}; it decided ${r.decisions.map((d) => d.id).join(', ') || 'nothing'}`);
    expect(String((r.error as Error)?.message ?? r.error)).toMatch(message);
    return this;
  }

  /** Checks of the decisions that need tolerances (floats computed in another order than the spec writes them). */
  thenSatisfies(check: (decisions: DareEvent[], state: S) => void): this {
    const got = this.decisions();
    got.forEach((d, i) => validateEvent(d, `${this.def.name} decision ${i}`));
    check(got, this.folded.state);
    return this;
  }

  /** The actor's statechart phase after `when`. */
  inPhase(phase: P): this {
    expect(this.folded.phase, `${this.def.name}'s phase after ${this.when.event.id}`).toBe(phase);
    return this;
  }

  get state(): S {
    return this.folded.state;
  }
}

export function deciderSpec<S, P extends string>(def: ActorDef<S, P>, opts: SpecOptions) {
  const ctx = makeContext(SPEC_RUN, opts.config, {
    prompt: (i) => opts.prompts?.[i],
    blob: (k) => opts.blobs?.[k],
    promptTable: () => opts.promptTable,
  });
  return {
    given(events: readonly DareEvent[]) {
      return {
        when(event: DareEvent): Outcome<S, P> {
          let f = initialFolded(def, opts.config);
          const all = [...events, event];
          let last: Logged | undefined;
          all.forEach((e, i) => {
            last = { seq: i + 1, event: stored(e, `${i < events.length ? 'given' : 'when'} ${e.id}`) };
            f = foldOne(def, f, last);
          });
          return new Outcome(def, f, last!, ctx);
        },
      };
    },
  };
}
