/** `dare inspect` (at a position, or --live) and `dare machines`: actors' state machines as text or JSON. */
import { ACTORS } from '../actors/index.ts';
import { mermaidOf } from '../actors/mermaid.ts';
import type { NatsTarget } from '../bus/connect.ts';
import { liveRun } from '../run/control.ts';
import { followInspection, type ActorView } from '../views/inspect.ts';
import { toJsonSafe } from '../views/format.ts';

export function printInspect(views: ActorView[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(toJsonSafe(views)) + '\n');
    return;
  }
  for (const v of views) {
    process.stdout.write(`${v.actor.padEnd(10)} ${v.machinePhase.padEnd(14)} @${v.seq}  ${JSON.stringify(toJsonSafe(v.summary))}\n`);
    for (const [seq, type, from, to] of v.recent) process.stdout.write(`${''.padEnd(12)}${String(seq).padStart(8)}  ${from} → ${to}  (${type})\n`);
  }
}

/** `inspect --live`: print the run's inspection messages as they come, until `signal` aborts. */
export async function inspectLive(runDir: string, json: boolean, signal?: AbortSignal, via?: NatsTarget): Promise<void> {
  const { run } = liveRun(runDir);
  process.stdout.write(`following ${run} (ctrl-c to stop)\n`);
  for await (const msg of followInspection(runDir, signal, via)) {
    if (json) process.stdout.write(JSON.stringify(toJsonSafe(msg)) + '\n');
    else process.stdout.write(`${String(msg.seq).padStart(8)}  ${msg.actor.padEnd(10)} ${msg.from} → ${msg.to}  (${msg.event})  ${JSON.stringify(toJsonSafe(msg.summary))}\n`);
  }
}

export function machinesCommand(mermaid: boolean): void {
  for (const d of ACTORS) {
    if (mermaid) process.stdout.write(`%% ${d.name}: ${d.description}\n${mermaidOf(d)}\n\n`);
    else process.stdout.write(`${d.name}: ${d.phases.join(', ')} (initial ${d.initialPhase})\n`);
  }
}
