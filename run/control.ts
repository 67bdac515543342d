/**
 * Pause, resume and stop (DESIGN §8 `dare.<run>.control`): the running process turns a control message, or
 * its first SIGINT, into a logged ControlApplied (the session acts on the log, never on the message), and
 * `dare control` sends one. `nats.json` in the run directory is how other processes find a live run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { InspectMessage } from '../actors/host.ts';
import { connectNats, type NatsOptions, type NatsTarget } from '../bus/connect.ts';
import type { LogClient } from '../bus/logClient.ts';
import { eventId, makeEvent } from '../events/catalogue.ts';
import { pack, unpack } from '../events/codec.ts';
import { UserError } from '../events/errors.ts';
import { subjectsFor } from '../events/subjects.ts';

export type ControlCommand = 'pause' | 'resume' | 'stop';

export interface LiveRun {
  url: string;
  token: string;
  run: string;
}

/**
 * How a process of another role reaches the run: the servers and credentials it was given, else the run's
 * own (nats.json; its token only when no credentials of one's own were given).
 */
export function natsVia(live: { url: string; token?: string }, via?: NatsTarget): NatsOptions {
  const own = via?.user !== undefined || via?.token !== undefined;
  return { url: via?.url ?? live.url, token: own ? via?.token : live.token, user: via?.user, pass: via?.pass, ca: via?.ca };
}

/** The NATS address of the run going on in `runDir` (written by `dare run` while it runs). */
export function liveRun(runDir: string): LiveRun {
  const file = join(runDir, 'nats.json');
  if (!existsSync(file)) throw new UserError(`${runDir}: no running run here (nats.json missing)`);
  return JSON.parse(readFileSync(file, 'utf8')) as LiveRun;
}

/** The stop a signal asks for (run/interrupts.ts), as the logged fact the session acts on. */
export function signalStop(bus: LogClient, run: string, lastSeq: number, signal: string, logger: Logger): void {
  const ev = makeEvent('ControlApplied', { command: 'stop', source: `signal ${signal}` }, { run, id: eventId('ControlApplied', 'stop', lastSeq) });
  bus.append([ev]).catch((e: unknown) => logger.error({ err: (e as Error).message }, 'could not log the stop'));
}

export interface ControlDeps {
  nc: NatsConnection;
  bus: LogClient;
  run: string;
  /** the log's last seq: a command's event id is unique per (command, log position) */
  lastSeq: () => number;
  onTransition: (m: InspectMessage) => void;
  logger: Logger;
}

/** The run side: a control message becomes a ControlApplied event. Returns the function that stops listening. */
export function serveControl(d: ControlDeps): () => void {
  const { nc, bus, run, logger } = d;
  const controlSub = nc.subscribe(bus.subjects.control, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const c = unpack(msg.data) as { command?: unknown; source?: unknown };
        if (c?.command !== 'pause' && c?.command !== 'resume' && c?.command !== 'stop') throw new Error(`unknown control command ${JSON.stringify(c?.command)}`);
        const ev = makeEvent('ControlApplied', { command: c.command, source: String(c.source ?? 'nats').slice(0, 200) }, {
          run, id: eventId('ControlApplied', c.command, d.lastSeq()),
        });
        void bus.append([ev]).then(
          ([r]) => {
            msg.respond(pack({ ok: true }));
            // `dare inspect --live` shows the command as it is applied
            d.onTransition({ actor: 'control', seq: r.seq, event: 'ControlApplied', from: '', to: String(c.command), summary: { source: ev.data.source } });
          },
          (e) => msg.respond(pack({ ok: false, error: String(e) })),
        );
      } catch (e) {
        logger.warn({ reason: (e as Error).message }, 'rejected control message');
        msg.respond(pack({ ok: false, error: (e as Error).message }));
      }
    },
  });
  return () => controlSub.unsubscribe();
}

/** The client side (`dare control`): send pause / resume / stop to the run going on in `runDir`. */
export async function sendControl(runDir: string, command: ControlCommand, via?: NatsTarget): Promise<void> {
  const { run, ...live } = liveRun(runDir);
  const nc = await connectNats({ ...natsVia(live, via), name: 'control' });
  try {
    const subject = subjectsFor(run).control;
    const answer = await nc.request(subject, pack({ command, source: 'cli' }), { timeout: 10_000 }).catch((e: unknown) => {
      const cause = (e as Error)?.cause ?? e;
      if (cause instanceof PermissionViolationError) throw new UserError(`control ${command}: this NATS user may not publish on ${subject} (an operator's or the run's credentials may)`);
      throw e;
    });
    const reply = unpack(answer.data) as { ok: boolean; error?: string };
    if (!reply.ok) throw new UserError(`control ${command}: ${reply.error}`);
  } finally {
    await nc.close();
  }
}
