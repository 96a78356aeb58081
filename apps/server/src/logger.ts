import pino, { type Logger } from 'pino';

/** Linux's PIPE_BUF: one write to a pipe up to this size is never interleaved with another process's. */
const atomicPipeWrite = 4096;

/**
 * JSON logs on stdout, one object per line, ready to ship, each with the
 * process id (with WEB_CONCURRENCY, which server process wrote it). Lines are
 * buffered up to 4 KiB (or 0.5 s) and written asynchronously: one write per
 * request cost ~2% of a list request. `flushLogs` runs before the process
 * exits. `sharedStdout` (the cluster's workers, whose stdout is one pipe):
 * each write is whole lines of at most 4 KiB, so lines of two processes never
 * mix (a single line longer than that still could).
 *
 * @example
 * ```ts
 * const logger = createLogger('info');
 * ```
 */
export function createLogger(level: string, options: { sharedStdout?: boolean } = {}): Logger {
  const logger = pino(
    { level, base: { service: 'keel', pid: process.pid } },
    pino.destination({
      dest: 1,
      sync: false,
      ...(options.sharedStdout
        ? { minLength: atomicPipeWrite / 2, maxWrite: atomicPipeWrite }
        : { minLength: atomicPipeWrite }),
    }),
  );
  // A quiet server still shows its lines within half a second.
  setInterval(() => logger.flush(), 500).unref();
  return logger;
}

/** Writes out buffered log lines (await it before exiting). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
