import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

const validRequestId = /^[A-Za-z0-9._-]{1,128}$/;

/** Per-request state the middlewares share. */
export interface RequestState {
  requestId: string;
  /** The caller's address as the rate limits see it (X-Forwarded-For only from trusted proxies). */
  clientAddress: string | null;
  /** A logger bound to the request id (created on first use: most requests never need one). */
  readonly log: Logger;
}

const states = new WeakMap<ServerResponse, RequestState>();

/**
 * Gives a request an id (from `x-request-id` when it is sane, else a new
 * UUID), returns it in the response header, and logs one JSON line when the
 * response is finished, with method, path, status and duration.
 */
export function startRequestLog(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  clientAddress: string | null = null,
): RequestState {
  const incoming = req.headers['x-request-id'];
  const requestId =
    typeof incoming === 'string' && validRequestId.test(incoming) ? incoming : randomUUID();
  let child: Logger | undefined;
  const state: RequestState = {
    requestId,
    clientAddress,
    get log() {
      child ??= logger.child({ requestId });
      return child;
    },
  };
  states.set(res, state);
  res.setHeader('x-request-id', requestId);
  const started = performance.now();
  const url = req.url ?? '';
  res.once('finish', () => {
    const query = url.indexOf('?');
    logger.info(
      {
        requestId,
        method: req.method,
        path: query === -1 ? url : url.slice(0, query),
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });
  return state;
}

const current = new AsyncLocalStorage<RequestState>();

/**
 * Runs `handle` with `state` as the current request, so that log lines
 * written far from the response (the slow-query log in the pool's hook)
 * carry the request id too.
 */
export function withRequest(state: RequestState, handle: () => void): void {
  current.run(state, handle);
}

/** The logger of the request being handled, if any (see `withRequest`). */
export function currentRequestLog(): Logger | undefined {
  return current.getStore()?.log;
}

/** The request's id and logger (set by `startRequestLog`). */
export function requestState(res: ServerResponse): RequestState | undefined {
  return states.get(res);
}
