/**
 * `resume.seconds`: `dare resume` of the cached killed run (bench/replayLog.ts) — actors from their newest
 * snapshots, the worker from its newest checkpoint plus the logged updates after it — measured from the
 * call to the moment the resumed run starts its next step (the `ts` of the first StepStarted after
 * RunResumed; the interrupted step is finished first, as a resume does). Runs in process (no start-up of
 * node and tsx) on a copy of the run, which is stopped over its control subject once the step has started.
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resumeRun } from '../run/runner.ts';
import { connectNats } from '../bus/connect.ts';
import { LogClient } from '../bus/logClient.ts';
import { pack } from '../events/codec.ts';
import { EventLog } from '../store/eventLog.ts';
import { quietLogger } from './orchestration.ts';

export async function resumeBench(cachedRunDir: string, workDir: string): Promise<Record<string, number>> {
  const runDir = join(workDir, 'resume-run');
  rmSync(runDir, { recursive: true, force: true });
  cpSync(cachedRunDir, runDir, { recursive: true });
  // the killed run left its NATS address behind; the resumed run writes its own
  rmSync(join(runDir, 'nats.json'), { force: true });
  let from: number;
  {
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    from = log.lastSeq() + 1;
    await log.close();
  }
  // set by the watcher (an object: assignments in callbacks are invisible to narrowing)
  const seen: { step: number | null; resumed: number | null; error: unknown } = { step: null, resumed: null, error: null };
  const t0 = Date.now();
  const run = resumeRun({ runDir, logger: quietLogger() });
  // watch the resumed run's new events over its own NATS server; stop it once the next step has started
  const watch = (async () => {
    const file = join(runDir, 'nats.json');
    while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
    const { url, token, run: id } = JSON.parse(readFileSync(file, 'utf8')) as { url: string; token: string; run: string };
    const nc = await connectNats({ url, token, name: 'bench-resume' });
    const bus = new LogClient(nc, id);
    const started = new Promise<void>((resolve) => {
      const c = bus.consume(from, (e) => {
        if (e.event.type === 'RunResumed') seen.resumed = e.event.ts;
        if (e.event.type === 'StepStarted' && seen.resumed !== null && seen.step === null) {
          seen.step = e.event.ts;
          void c.stop().then(resolve);
        }
      });
      void run.finally(() => void c.stop().then(resolve));
    });
    await started;
    if (seen.step !== null) {
      await nc.request(bus.subjects.control, pack({ command: 'stop', source: 'bench' }), { timeout: 10_000 }).catch(() => undefined);
    }
    await nc.close();
  })().catch((e) => (seen.error = e));
  const outcome = await run;
  await watch;
  if (seen.error) throw seen.error;
  if ('finished' in outcome) throw new Error(`bench: ${cachedRunDir} is already complete; the resume figure needs an unfinished run`);
  const { step, resumed } = seen;
  if (step === null || resumed === null) throw new Error(`bench: the resumed run ${runDir} started no step after RunResumed`);
  rmSync(runDir, { recursive: true, force: true });
  return {
    'resume.seconds': Number(((step - t0) / 1000).toFixed(2)),
    'resume.toRunResumedSeconds': Number(((resumed - t0) / 1000).toFixed(2)),
    'resume.logEvents': from - 1,
  };
}
