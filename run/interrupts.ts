/**
 * SIGINT and SIGTERM for a run in this process: the first one stops the run at the end of the current step
 * (a logged ControlApplied stop: the step finishes with a checkpoint and an evaluation, then RunStopped), the
 * second aborts at once. Listening starts before anything else of the run, so a signal during start-up
 * (the warm start can take half a minute) is not lost: it is turned into the stop once the run has started.
 * The workers and the private nats-server run in their own process groups (a terminal's Ctrl-C reaches only
 * this process), so nothing under the run dies before the run has stopped.
 */
import type { Logger } from 'pino';

export type StopSignal = 'SIGINT' | 'SIGTERM';

const EXIT_CODE: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export class Interrupts {
  /** the first signal received (the run was asked to stop by it) */
  received: StopSignal | null = null;
  private stop: (() => void) | null = null;
  private readonly handlers: Array<[StopSignal, () => void]>;

  constructor(private readonly logger: Logger) {
    this.handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => [sig, () => this.on(sig)]);
    for (const [sig, h] of this.handlers) process.on(sig, h);
  }

  private on(sig: StopSignal): void {
    if (this.received) {
      this.logger.warn({ signal: sig }, 'second signal: aborting now (`dare resume` continues from the log)');
      process.exit(EXIT_CODE[sig]);
    }
    this.received = sig;
    this.logger.warn({ signal: sig }, 'interrupted: stopping at the end of the current step, after its checkpoint and eval (again to abort)');
    this.stop?.();
  }

  /** From now on a first signal calls `stop`; one that came before is passed on now. */
  arm(stop: () => void): void {
    this.stop = stop;
    if (this.received) stop();
  }

  /** The exit code a command ends with after a stop a signal asked for (128 + the signal's number). */
  get exitCode(): number | null {
    return this.received ? EXIT_CODE[this.received] : null;
  }

  dispose(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
    this.stop = null;
    // A stop a signal asked for: the command ends with 128 + n. Another signal while it tears down (a second
    // Ctrl-C after the run stopped) ends it at once with that code, not by the signal's default action.
    const first = this.received;
    if (first) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(EXIT_CODE[first]));
  }
}
