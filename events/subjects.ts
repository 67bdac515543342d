/** NATS subject names of one run (DESIGN §8). The run id is restricted to [A-Za-z0-9_-] by the schema. */
import type { AppendRole } from './roles.ts';

export interface RunSubjects {
  /** request/reply: propose events to the store (the single writer); the run's own process only */
  append: string;
  /** request/reply: propose events as a process of a role (events/roles.ts): `append.actor`, `append.bridge` */
  appendAs(role: AppendRole): string;
  /** committed events, in sequence order, published by the store */
  log: string;
  /** request/reply: range reads from the store */
  read: string;
  /** queue group of the gpu bridges */
  gpu: string;
  /** xstate inspection events published by the actors */
  inspect: string;
  /** pause / resume / stop */
  control: string;
}

export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function subjectsFor(run: string): RunSubjects {
  if (!RUN_ID_PATTERN.test(run)) throw new Error(`run id ${JSON.stringify(run)}: use 1-64 of [A-Za-z0-9_-]`);
  const p = `dare.${run}`;
  return {
    append: `${p}.append`,
    appendAs: (role) => `${p}.append.${role}`,
    log: `${p}.log`,
    read: `${p}.read`,
    gpu: `${p}.gpu`,
    inspect: `${p}.inspect`,
    control: `${p}.control`,
  };
}
