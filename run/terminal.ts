/**
 * stderr for people. On a terminal the last line is a status line (the progress bar, or a start-up phase
 * with its elapsed seconds) that every other line is printed above, so the bar is never buried between log
 * lines; off a terminal lines are just written. One per process (`stderrTerminal`), shared by the logger's
 * text destination and the progress. Wall-clock time here paces a display only.
 */

export interface TerminalOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** `text` cut to `width` columns (the status line must fit one row, or redrawing it leaves copies behind). */
export function fitWidth(text: string, width: number): string {
  return text.length <= width ? text : width > 1 ? `${text.slice(0, width - 1)}…` : '';
}

export class StatusTerminal {
  private status = '';
  private phase: { name: string; since: number; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly out: TerminalOut) {}

  get tty(): boolean {
    return !!this.out.isTTY;
  }

  private width(): number {
    return Math.max(20, (this.out.columns ?? 80) - 1);
  }

  /** Print a line (above the status line on a terminal). */
  line(text: string): void {
    if (!this.tty) {
      this.out.write(`${text}\n`);
      return;
    }
    this.out.write(`\r\x1b[2K${text}\n${this.status ? fitWidth(this.status, this.width()) : ''}`);
  }

  /** Set the status line (terminal only; '' removes it). Ends a phase's ticking. */
  setStatus(text: string): void {
    this.endPhase();
    this.draw(text);
  }

  private draw(text: string): void {
    if (!this.tty) return;
    this.status = text;
    this.out.write(`\r\x1b[2K${fitWidth(text, this.width())}`);
  }

  /**
   * A phase of unknown length (the warm start): the status line says what is going on and for how long,
   * redrawn every second until the next status or `endPhase`.
   */
  startPhase(name: string, now = Date.now()): void {
    if (!this.tty) return;
    this.endPhase();
    const tick = () => this.draw(phaseLine(name, (Date.now() - now) / 1000));
    const timer = setInterval(tick, 1000);
    timer.unref();
    this.phase = { name, since: now, timer };
    tick();
  }

  endPhase(name?: string): void {
    if (!this.phase || (name !== undefined && name !== this.phase.name)) return;
    clearInterval(this.phase.timer);
    this.phase = null;
    this.draw('');
  }

  /** Leave the terminal with the status line finished (kept, on its own row). */
  finish(): void {
    this.endPhase();
    if (this.tty && this.status) this.out.write('\n');
    this.status = '';
  }
}

/** The status line of a phase: a spinner-free `… name: 12 s` (a spinner would redraw for nothing). */
export function phaseLine(name: string, seconds: number): string {
  return `… ${name}: ${Math.floor(seconds)} s`;
}

export const stderrTerminal = new StatusTerminal(process.stderr);
