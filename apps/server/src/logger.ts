import pino, { type Logger } from 'pino';

/** JSON logs on stdout, one object per line, ready to ship. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'keel' } });
}
