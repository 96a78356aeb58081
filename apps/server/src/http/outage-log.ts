// A database outage is logged once when it starts and once when it ends, at
// warn, not once per refused request (which would bury everything else).
import type { Logger } from 'pino';

/** Tells the log when the database stops and starts answering. */
export interface OutageLog {
  /** True while the last database call failed to reach the database. */
  readonly down: boolean;
  /** A call could not reach the database (SERVICE_UNAVAILABLE). */
  unavailable(cause: unknown): void;
  /** A call was answered by the database again. */
  answered(): void;
}

/**
 * @example
 * ```ts
 * const outage = createOutageLog(logger);
 * outage.unavailable(err); // warn: database unavailable (once)
 * outage.answered();       // warn: database available again (once)
 * ```
 */
export function createOutageLog(logger: Logger): OutageLog {
  let down = false;
  let since = 0;
  return {
    get down() {
      return down;
    },
    unavailable(cause) {
      if (down) return;
      down = true;
      since = Date.now();
      const message = cause instanceof Error ? cause.message : String(cause);
      logger.warn({ cause: message }, 'database unavailable: answering SERVICE_UNAVAILABLE');
    },
    answered() {
      if (!down) return;
      down = false;
      logger.warn({ downForMs: Date.now() - since }, 'database available again');
    },
  };
}
