import { type ApiSettings, appRouter, bearerToken, createInnerContext } from '@keel/api';
import type { DB } from '@keel/db';
import type { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import helmet from 'helmet';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { corsAllowlist } from './http/cors';
import { createRateLimiter } from './http/rate-limit';
import { requestLog, requestState } from './http/request-log';
import { trpcQueryFastPath } from './http/trpc-query-fast-path';

/** What the app needs from the outside; tests pass their own. */
export interface AppDeps {
  db: Kysely<DB>;
  logger: Logger;
  /** How long `/readyz` waits for the database. Default 1000 ms. */
  readinessTimeoutMs?: number;
  corsOrigins?: readonly string[];
  bodyLimitBytes?: number;
  maxBatchSize?: number;
  authRateLimitPerMinute?: number;
  settings?: Partial<ApiSettings>;
  trustProxy?: boolean;
  /** Serve batched GET queries without tRPC's fetch-API round trip (default on). */
  queryFastPath?: boolean;
}

/**
 * Builds the Express app: tRPC at `/trpc` (batching on, body and batch size
 * capped), `/healthz` and `/readyz`, helmet headers, CORS from an allowlist,
 * one JSON log line per request. Separate from `main.ts` so tests start the
 * real app on an ephemeral port.
 *
 * @example
 * ```ts
 * const server = createApp({ db, logger }).listen(0, '127.0.0.1');
 * ```
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(helmet());
  app.use(requestLog(deps.logger));
  app.use(corsAllowlist(deps.corsOrigins ?? []));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const ready = await databaseAnswers(deps.db, deps.readinessTimeoutMs ?? 1_000);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'database unavailable' });
  });

  const allowAttempt = createRateLimiter(deps.authRateLimitPerMinute ?? 10);
  const createContext = (req: Request) =>
    createInnerContext({
      db: deps.db,
      token: bearerToken(req.header('authorization')),
      clientAddress: req.ip ?? null,
      allowAttempt,
      ...(deps.settings ? { settings: deps.settings } : {}),
    });
  const onError = ({
    error,
    path,
    req,
  }: {
    error: TRPCError;
    path: string | undefined;
    req: Request;
  }) => {
    const log = req.res ? requestState(req.res).log : deps.logger;
    if (error.code === 'INTERNAL_SERVER_ERROR')
      log.error({ err: error.cause ?? error, path }, 'procedure failed');
    else log.debug({ code: error.code, path, message: error.message }, 'procedure refused');
  };
  const maxBatchSize = deps.maxBatchSize ?? 20;
  app.use(
    '/trpc',
    ...(deps.queryFastPath === false
      ? []
      : [trpcQueryFastPath({ router: appRouter, createContext, onError, maxBatchSize })]),
    createExpressMiddleware({
      router: appRouter,
      maxBodySize: deps.bodyLimitBytes ?? 100 * 1024,
      maxBatchSize,
      createContext: ({ req }) => createContext(req),
      onError: ({ error, path, req }) => onError({ error, path, req }),
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const lastResort: ErrorRequestHandler = (err, _req, res, _next) => {
    requestState(res).log.error({ err }, 'unhandled error');
    res.status(500).json({ error: 'internal error' });
  };
  app.use(lastResort);
  return app;
}

async function databaseAnswers(db: Kysely<DB>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
