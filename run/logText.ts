/**
 * pino records as concise text lines, for people (stderr off a terminal, and on one): `HH:MM:SS msg
 * key=value …`, a level word only for warnings and errors. A job's own report (an info record naming the
 * `request` that caused it: "rollout chunk logged", "score completed", …) is detail that the step line
 * already sums up: shown only at DARE_LOG_LEVEL=debug or below. The clock in the prefix is for display only.
 */

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** pino's own fields, never shown as key=value */
const OWN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v', 'phase', 'phaseDone']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

/** `HH:MM:SS ` of a record's time (local), or '' without one. */
export function clock(ms: unknown): string {
  if (typeof ms !== 'number') return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} `;
}

/**
 * The text line of one record, or null when it is detail hidden at `shownLevel` (the logger's level: 30 for
 * info). An error's stack (err) keeps its first line only: the full one is in a JSON log (--log-format json).
 */
export function textOfRecord(rec: Record<string, unknown>, shownLevel = 30): string | null {
  const level = typeof rec.level === 'number' ? rec.level : 30;
  if (level === 30 && 'request' in rec && shownLevel > 20) return null;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (OWN.has(k) || v === undefined) continue;
    const shown = k === 'err' && typeof v === 'string' ? v.split('\n')[0] : v;
    parts.push(`${k}=${value(shown)}`);
  }
  const word = level >= 40 ? `${LEVELS[level] ?? 'warn'}: ` : '';
  return `${clock(rec.time)}${word}${String(rec.msg ?? '')}${parts.length ? '  ' + parts.join(' ') : ''}`;
}
