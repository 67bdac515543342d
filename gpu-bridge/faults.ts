/**
 * Fault injection for the kill -9 tests: DARE_FAULT_PAUSE="update:300,checkpoint:300" holds the bridge for
 * that many ms after the worker applied an update (before UpdateCompleted is logged) and after a checkpoint
 * file is written (before it is registered), so a kill lands in the two most delicate moments.
 */
const FAULT_PAUSES: Record<string, number> = Object.fromEntries(
  (process.env.DARE_FAULT_PAUSE ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const [k, v] = p.split(':');
      return [k.trim(), Number(v)];
    }),
);

/** `shared:300` holds a bridge that took a shared job that long before it runs it (a kill then lands while it holds one). */
export async function faultPause(point: 'update' | 'checkpoint' | 'shared'): Promise<void> {
  const ms = FAULT_PAUSES[point];
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}
