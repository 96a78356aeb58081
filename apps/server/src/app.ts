import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  type ApiSettings,
  appRouter,
  bearerToken,
  createAttemptLimit,
  createBulkhead,
  createInnerContext,
  createLoginThrottle,
  createMemoryLimitStore,
  createPostgresLimitStore,
  type PaymentProvider,
  type ReadReplica,
} from '@keel/api';
import type { DB } from '@keel/db';
import type { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { combineCallWrappers } from './call-wrappers';
import { clientAddressOf, type TrustProxy } from './http/client-address';
import { createCors } from './http/cors';
import { createOutageLog, type OutageLog } from './http/outage-log';
import { createQueryLane } from './http/query-lane';
import { createTokenBucket } from './http/rate-limit';
import { readYourWrites } from './http/read-your-writes';
import { requestState, startRequestLog, withRequest } from './http/request-log';
import { captureHelmetHeaders } from './http/security-headers';
import { storefront } from './http/storefront';
import type { Metrics } from './metrics';
import { referenceRoutes } from './rest/reference';
import { restRoutes } from './rest/routes';
import type { Tracing } from './tracing';

/** What the app needs from the outside; tests pass their own. */
export interface AppDeps {
  /** The primary. */
  db: Kysely<DB>;
  /** A streaming replica for catalogue reads (DATABASE_REPLICA_URL), watched by a `ReplicaMonitor`. */
  readReplica?: ReadReplica;
  /**
   * How long after a write a signed-in caller's catalogue reads stay on the
   * primary (with a replica only). Default 7000 ms: REPLICA_MAX_LAG_MS plus
   * two check intervals at their defaults.
   */
  readYourWritesMs?: number;
  logger: Logger;
  /** How long `/readyz` waits for the database. Default 1000 ms. */
  readinessTimeoutMs?: number;
  corsOrigins?: readonly string[];
  bodyLimitBytes?: number;
  maxBatchSize?: number;
  /** auth.login / auth.register calls per client address per minute, across every instance. Default 10. */
  authRateLimitPerMinute?: number;
  /**
   * Where the sign-in limits count: `postgres` (default), shared by every
   * instance on the database; `memory`, this process alone (one-process setups).
   */
  rateLimitStore?: 'postgres' | 'memory';
  /** Reads (query calls) per client address per minute. Default 600. */
  readRateLimitPerMinute?: number;
  /** Text searches running at once in this process. Default 2. */
  maxConcurrentSearches?: number;
  settings?: Partial<ApiSettings>;
  /** Which X-Forwarded-For hops to believe: false, a hop count, or proxy addresses (never `true`). */
  trustProxy?: TrustProxy;
  /** Serve batched calls (GET queries, POST mutations) on the query lane instead of the Express routes (default on). */
  queryLane?: boolean;
  /** A storefront build (apps/web/dist) to serve from the same origin, if present. */
  webRoot?: string;
  /** Where calls and responses are counted (METRICS_PORT); absent, nothing is measured. */
  metrics?: Metrics;
  /** Where spans go (OTEL_EXPORTER_OTLP_ENDPOINT); absent, nothing is traced. */
  tracing?: Tracing;
  /** Where `orders.pay` charges cards; the test provider when absent. */
  payments?: PaymentProvider;
}

/**
 * The body and batch caps, one source for tRPC's adapter, the REST routes
 * and the lane: the lane answers exactly as tRPC would only while they agree.
 */
function capsOf(deps: AppDeps): { bodyLimitBytes: number; maxBatchSize: number } {
  return {
    bodyLimitBytes: deps.bodyLimitBytes ?? 100 * 1024,
    maxBatchSize: deps.maxBatchSize ?? 20,
  };
}

function contextFactory(deps: AppDeps) {
  const store =
    deps.rateLimitStore === 'memory' ? createMemoryLimitStore() : createPostgresLimitStore(deps.db);
  deps.logger.info(
    { rateLimitStore: store.kind },
    store.kind === 'memory'
      ? 'sign-in limits count in this process only (RATE_LIMIT_STORE=memory): run one instance'
      : 'sign-in limits count in PostgreSQL, shared by every instance; read limits count per instance',
  );
  const allowAttempt = createAttemptLimit(store, deps.authRateLimitPerMinute ?? 10);
  // Per account, whatever the address or the instance.
  const loginThrottle = createLoginThrottle(store);
  // Per instance, so that reads pay no round trip: N instances allow N times
  // this. A token bucket: the minute's reads come at a steady rate (10 s of
  // them may be saved up).
  const readLimiter = createTokenBucket(deps.readRateLimitPerMinute ?? 600);
  const allowRead = (address: string, cost?: number) => readLimiter(address, undefined, cost);
  // At most this many searches hold pooled connections at once; plain reads keep the rest.
  const searches = createBulkhead(deps.maxConcurrentSearches ?? 2, 32);
  const aroundCall = combineCallWrappers([deps.metrics?.aroundCall, deps.tracing?.aroundCall]);
  // Without a replica every read is on the primary: no marker to carry.
  const freshness = deps.readReplica ? readYourWrites(deps.readYourWritesMs ?? 7_000) : undefined;
  return (req: IncomingMessage, res: ServerResponse, clientAddress: string | null) =>
    createInnerContext({
      db: deps.db,
      ...(deps.readReplica && freshness
        ? {
            readReplica: deps.readReplica,
            wroteRecently: freshness.wroteRecently(req),
            markWrite: () => freshness.mark(res),
          }
        : {}),
      token: bearerToken(req.headers.authorization),
      clientAddress,
      allowAttempt,
      loginThrottle,
      allowRead,
      searches,
      ...(deps.settings ? { settings: deps.settings } : {}),
      ...(aroundCall ? { aroundCall } : {}),
      ...(deps.payments ? { payments: deps.payments } : {}),
    });
}

function logProcedureError(
  log: Logger,
  error: TRPCError,
  path: string | undefined,
  outage: OutageLog,
): void {
  if (error.code === 'SERVICE_UNAVAILABLE') outage.unavailable(error.cause ?? error);
  if (error.code === 'INTERNAL_SERVER_ERROR')
    log.error({ err: error.cause ?? error, path }, 'procedure failed');
  else log.debug({ code: error.code, path, message: error.message }, 'procedure refused');
}

/**
 * The routes behind the pipeline, on Express: tRPC at `/trpc` (batching on,
 * body and batch size capped), `/healthz`, `/readyz`, the REST routes under
 * `/api` with `/openapi.json` and `/docs`, and the storefront build. Headers,
 * request ids, logging and CORS are not here: the pipeline
 * (`createRequestListener`) has applied them once before a request arrives.
 */
function createRoutes(
  deps: AppDeps,
  createContext: ReturnType<typeof contextFactory>,
  outage: OutageLog,
): Express {
  const caps = capsOf(deps);
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const ready = await databaseAnswers(deps.db, deps.readinessTimeoutMs ?? 1_000);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'database unavailable' });
  });

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      maxBodySize: caps.bodyLimitBytes,
      maxBatchSize: caps.maxBatchSize,
      createContext: ({ req, res }) =>
        createContext(req, res, requestState(res)?.clientAddress ?? null),
      onError: ({ error, path, req }) =>
        logProcedureError(
          (req.res && requestState(req.res)?.log) || deps.logger,
          error,
          path,
          outage,
        ),
    }),
  );

  // After /trpc, which answers every request under it: tRPC calls never reach these.
  app.use(
    restRoutes({
      router: appRouter,
      createContext: (req, res) =>
        createContext(req, res, requestState(res)?.clientAddress ?? null),
      onError: (error, path, res) =>
        logProcedureError(requestState(res)?.log ?? deps.logger, error, path, outage),
      bodyLimitBytes: caps.bodyLimitBytes,
    }),
  );
  app.use(referenceRoutes(appRouter));

  const web = deps.webRoot ? storefront(deps.webRoot) : null;
  if (web) app.use(web);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const lastResort: ErrorRequestHandler = (err, _req, res, _next) => {
    (requestState(res)?.log ?? deps.logger).error({ err }, 'unhandled error');
    res.status(500).json({ error: 'internal error' });
  };
  app.use(lastResort);
  return app;
}

/**
 * The server's one HTTP pipeline. Every request passes it once: helmet's
 * security headers (computed once at start), a request id and one JSON log
 * line, CORS from the allowlist (answering preflights). Then batched calls
 * (every query and mutation the client makes) go to the query lane and
 * everything else to the Express routes; body and batch caps apply on both, and rate
 * limits inside the procedures. Separate from `main.ts` so tests start the
 * real handler on an ephemeral port.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(createRequestListener({ db, logger })).listen(0, '127.0.0.1');
 * ```
 */
export function createRequestListener(deps: AppDeps): RequestListener {
  const createContext = contextFactory(deps);
  const outage = createOutageLog(deps.logger);
  const routes = createRoutes(deps, createContext, outage);
  const caps = capsOf(deps);
  const headers = captureHelmetHeaders();
  const applyCors = createCors(deps.corsOrigins ?? []);
  const lane =
    deps.queryLane === false
      ? null
      : createQueryLane({
          router: appRouter,
          prefix: '/trpc',
          createContext: (req, res) =>
            createContext(req, res, requestState(res)?.clientAddress ?? null),
          // The request's own logger: its lines carry the request id.
          onError: (error, path, res) =>
            logProcedureError(requestState(res)?.log ?? deps.logger, error, path, outage),
          maxBatchSize: caps.maxBatchSize,
          maxBodySize: caps.bodyLimitBytes,
          fallback: routes,
        });
  const addressOf = clientAddressOf(deps.trustProxy ?? false);
  const metrics = deps.metrics;
  const handle: RequestListener = (req, res) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    const state = startRequestLog(deps.logger, req, res, addressOf(req));
    if (metrics) res.once('finish', () => metrics.response(res.statusCode));
    if (applyCors(req, res)) return;
    // While the database is down, the first answered API call ends the outage.
    if (outage.down) {
      res.once('finish', () => {
        if (res.statusCode === 200 && /^\/(?:trpc|api)\//.test(req.url ?? '')) outage.answered();
      });
    }
    withRequest(state, () => {
      const call = lane?.match(req);
      if (!lane || !call) {
        routes(req, res);
        return;
      }
      lane.serve(call, req, res).catch((err: unknown) => {
        state.log.error({ err }, 'query lane failed');
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
    });
  };
  const tracing = deps.tracing;
  return tracing ? (req, res) => tracing.request(req, res, () => handle(req, res)) : handle;
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
