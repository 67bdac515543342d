/**
 * pino logging on stderr (stdout stays for data). Two formats: `text` (the default: concise lines for
 * people, run/logText.ts, printed above the progress bar on a terminal) and `json` (one pino JSON record per
 * line, for programs and the tests: `--log-format json` or DARE_LOG_FORMAT=json). A record with a `phase`
 * field starts a phase of unknown length on a terminal's status line (the warm start), one with `phaseDone`
 * ends it.
 */
import pino, { type Logger } from 'pino';
import { textOfRecord } from './logText.ts';
import { stderrTerminal, type StatusTerminal } from './terminal.ts';

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** The format asked for: the option, else DARE_LOG_FORMAT, else text. */
export function logFormatOf(option?: string): LogFormat {
  const f = option ?? (process.env.DARE_LOG_FORMAT || 'text');
  if (!(LOG_FORMATS as readonly string[]).includes(f)) throw new Error(`log format "${f}": expected ${LOG_FORMATS.join(' or ')}`);
  return f as LogFormat;
}

/** A pino destination that writes each record as a text line through `term` (pino calls write synchronously). */
export function textDestination(term: StatusTerminal, shownLevel: number): { write(s: string): void } {
  return {
    write(s: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(s) as Record<string, unknown>;
      } catch {
        term.line(s.trimEnd());
        return;
      }
      if (typeof rec.phase === 'string') term.startPhase(rec.phase);
      if (typeof rec.phaseDone === 'string') term.endPhase(rec.phaseDone);
      const line = textOfRecord(rec, shownLevel);
      if (line !== null) term.line(line);
    },
  };
}

export function createLogger(name = 'dare', level = process.env.DARE_LOG_LEVEL ?? 'info', format: LogFormat = logFormatOf()): Logger {
  if (format === 'json') return pino({ name, level }, pino.destination(2));
  const shown = pino.levels.values[level] ?? 30;
  return pino({ name, level }, textDestination(stderrTerminal, shown));
}
