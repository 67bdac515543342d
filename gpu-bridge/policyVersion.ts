/**
 * The policy version a bridge's weights are at, in the LOG's numbering (the number of updates in the log),
 * and the worker's offset from it: a tiny worker's supervised warm start (`sft`) bumps the worker's own
 * counter once, so every worker-reported version is checked against `value + offset`. Shared jobs wait here
 * for the version they were made at.
 */
export class PolicyVersion {
  /** policy version of the log: updates applied to the worker's weights */
  value = 0;
  /** worker-reported version − log version (1 after the tiny warm start) */
  offset = 0;
  /** resolved whenever the policy version moves (shared jobs wait for the version they were made at) */
  private waiters: Array<() => void> = [];

  set(v: number): void {
    this.value = v;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the weights are at `v` (or past it), or after `timeoutMs`. */
  async reached(v: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs; // liveness only
    while (this.value < v && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}
