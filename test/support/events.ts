import { makeEvent, type DareEvent } from '../../events/catalogue.ts';

/** A small StepStarted event with a deterministic id (about 90 bytes encoded). */
export function stepEvent(run: string, n: number, idPrefix = 'StepStarted'): DareEvent {
  return makeEvent('StepStarted', { step: n, epoch: Math.floor(n / 100) }, { run, id: `${idPrefix}/${n}`, ts: 0 });
}
