import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const validRequestId = /^[A-Za-z0-9._-]{1,128}$/;

/** Per-request state the middlewares share. */
export interface RequestState {
  requestId: string;
  log: Logger;
}

/**
 * Gives every request an id (from `x-request-id` when it is sane, else a new
 * UUID), returns it in the response header, and logs one JSON line per
 * request with method, path, status and duration.
 */
export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && validRequestId.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ requestId });
    res.locals.keel = { requestId, log } satisfies RequestState;
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}

/** The request's id and logger (set by `requestLog`). */
export function requestState(res: Response): RequestState {
  return res.locals.keel as RequestState;
}
