/**
 * Opt-in timing marks along a step's hops (decide → append → commit → publish → deliver → job), for
 * bench/stepAnatomy.ts. Off unless a benchmark turns it on; call sites test `stepTrace.on` first, so a run
 * pays one property read per mark. Marks are informational only: nothing reads them to decide anything.
 */

/** A mark: performance.now() (ms) and a label such as "srv:committed" or "decide:sampler:BatchSelected". */
export type StepMark = readonly [ms: number, label: string];

export const stepTrace: { on: boolean; marks: StepMark[] } = { on: false, marks: [] };

/** Record a mark (callers check `stepTrace.on` first, so that the label is not even built when off). */
export function mark(label: string): void {
  stepTrace.marks.push([performance.now(), label]);
}

/** Start recording (clears earlier marks). */
export function startStepTrace(): void {
  stepTrace.marks = [];
  stepTrace.on = true;
}

/** Stop recording and hand over the marks. */
export function stopStepTrace(): StepMark[] {
  stepTrace.on = false;
  const m = stepTrace.marks;
  stepTrace.marks = [];
  return m;
}
