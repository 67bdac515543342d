/** pino logging: JSON lines on stderr, pretty-printed when stderr is a terminal. stdout stays for data. */
import pino, { type Logger } from 'pino';

export function createLogger(name = 'dare', level = process.env.DARE_LOG_LEVEL ?? 'info'): Logger {
  if (process.stderr.isTTY) {
    return pino({ name, level }, pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }));
  }
  return pino({ name, level }, pino.destination(2));
}
