/** The timed worker: the bridge's WorkerHandle wrapped so that every job's time goes on the worker clock (Bridge.workerClock). */
import type { WorkerHandle } from './workerClient.ts';

/**
 * Time spent in worker jobs, for the control-plane benchmark (informational: never read by a decision).
 * A job's time runs from the bridge's call to the worker's reply: for a process worker that includes the
 * pipe; for the in-process sim it is the synchronous job itself (the reply is settled before the call
 * returns, so later microtasks of other actors are not counted). Spans are [start, end] in ms since the
 * epoch (performance.timeOrigin + now(), the clock of the events' `ts`), the newest MAX_SPANS kept.
 */
export interface WorkerClock {
  seconds: number;
  jobs: number;
  /** [start, end, CPU seconds]; CPU only for the in-process worker: process.cpuUsage over the job, all threads */
  spans: Array<[number, number, number]>;
  cpuSeconds: number;
}

const MAX_SPANS = 100_000;

/**
 * `inner` with every job's time recorded in `clock` (`inProcess`: the sim, whose jobs are synchronous;
 * `delayed`: its jobs with a simulated duration, whose time runs to the reply and whose CPU is the
 * synchronous part).
 */
export function timedWorker(inner: WorkerHandle, clock: WorkerClock, inProcess: boolean, delayed: (job: string) => boolean = () => false): WorkerHandle {
  const now = () => performance.timeOrigin + performance.now();
  const record = (t0: number, t1: number, cpu: number) => {
    clock.seconds += (t1 - t0) / 1000;
    clock.cpuSeconds += cpu;
    clock.jobs++;
    clock.spans.push([t0, t1, cpu]);
    if (clock.spans.length > MAX_SPANS) clock.spans.splice(0, clock.spans.length - MAX_SPANS);
  };
  return {
    get info() {
      return inner.info;
    },
    close: () => inner.close(),
    request(job, args, opts) {
      const t0 = now();
      const c0 = inProcess ? process.cpuUsage() : null;
      const p = inner.request(job, args, opts);
      if (c0) {
        const c = process.cpuUsage(c0);
        const cpu = (c.user + c.system) / 1e6;
        if (delayed(job)) return p.finally(() => record(t0, now(), cpu));
        record(t0, now(), cpu);
        return p;
      }
      return p.finally(() => record(t0, now(), 0));
    },
  };
}
