// One server process: database pool, HTTP server, graceful shutdown. Run
// alone (WEB_CONCURRENCY=1) or as one worker of the cluster (src/cluster.ts).
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createTestPaymentProvider, type PaymentProvider } from '@keel/api';
import type { Logger } from 'pino';
import { createRequestListener } from './app';
import type { Config } from './config';
import { createServiceDb } from './database';
import { createKeelServer } from './http/server';
import { flushLogs } from './logger';
import { startReplicaMonitor } from './replica-monitor';

const paymentProviders: Record<Config['PAYMENT_PROVIDER'], () => PaymentProvider> = {
  test: createTestPaymentProvider,
};

/** Tracing over OTLP/HTTP to `<endpoint>/v1/traces`, its packages loaded only now. */
async function startOtlpTracing(
  endpoint: string,
  serviceName: string,
  headers: Record<string, string>,
) {
  const [{ OTLPTraceExporter }, { startTracing }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('./tracing'),
  ]);
  const url = new URL('v1/traces', `${endpoint.replace(/\/$/, '')}/`).href;
  return startTracing({
    exporter: new OTLPTraceExporter({ url, headers }),
    serviceName,
    batch: true,
  });
}

/** Serves until SIGTERM or SIGINT (or, in a cluster worker, until the primary is gone), then drains and exits 0. */
export async function serve(config: Config, logger: Logger): Promise<void> {
  // prom-client and OpenTelemetry load only when asked for (OpenTelemetry's
  // packages alone take a few hundred milliseconds to import).
  const metricsModule = config.METRICS_PORT === undefined ? undefined : await import('./metrics');
  const metrics = metricsModule?.createMetrics();
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
    ? await startOtlpTracing(
        config.OTEL_EXPORTER_OTLP_ENDPOINT,
        config.OTEL_SERVICE_NAME,
        config.OTEL_EXPORTER_OTLP_HEADERS,
      )
    : undefined;
  const db = createServiceDb(config, logger, { metrics, tracing });
  const replicaDb = config.DATABASE_REPLICA_URL
    ? createServiceDb(
        config,
        logger,
        { metrics, tracing },
        { name: 'replica', url: config.DATABASE_REPLICA_URL },
      )
    : undefined;
  const replica = replicaDb
    ? startReplicaMonitor({
        primary: db,
        replica: replicaDb,
        maxLagMs: config.REPLICA_MAX_LAG_MS,
        intervalMs: config.REPLICA_CHECK_INTERVAL_MS,
        logger,
        metrics,
      })
    : undefined;
  // In a cluster the primary serves METRICS_PORT, aggregating every worker's
  // registry; a worker only answers the primary's requests for its numbers.
  if (metricsModule && metrics && cluster.isWorker) metricsModule.reportToPrimary(metrics);
  const metricsServer =
    metricsModule && metrics && config.METRICS_PORT !== undefined && !cluster.isWorker
      ? await metricsModule
          .startMetricsServer(metrics.registry, config.METRICS_HOST, config.METRICS_PORT, logger)
          .then(
            (listening) => {
              logger.info(
                { url: `http://${config.METRICS_HOST}:${config.METRICS_PORT}/metrics` },
                'metrics listening',
              );
              return listening;
            },
            (err: unknown) => {
              logger.fatal(
                { err },
                `metrics cannot listen on ${config.METRICS_HOST}:${config.METRICS_PORT}`,
              );
              process.exit(1);
            },
          )
      : undefined;
  if (config.NODE_ENV === 'production' && config.PAYMENT_PROVIDER === 'test') {
    logger.warn(
      'PAYMENT_PROVIDER=test in production: orders are paid with test cards and nothing is charged',
    );
  }
  const listener = createRequestListener({
    db,
    ...(replica
      ? {
          readReplica: replica,
          // A write older than this is on a replica fit to serve: its lag was at
          // most REPLICA_MAX_LAG_MS at a check, and checks are an interval apart.
          readYourWritesMs: config.REPLICA_MAX_LAG_MS + 2 * config.REPLICA_CHECK_INTERVAL_MS,
        }
      : {}),
    logger,
    ...(metrics ? { metrics } : {}),
    ...(tracing ? { tracing } : {}),
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    maxBatchSize: config.MAX_BATCH_SIZE,
    authRateLimitPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    rateLimitStore: config.RATE_LIMIT_STORE,
    readRateLimitPerMinute: config.READ_RATE_LIMIT_PER_MINUTE,
    maxConcurrentSearches: config.MAX_CONCURRENT_SEARCHES,
    settings: {
      sessionTtlMs: config.SESSION_TTL_HOURS * 3600 * 1000,
      maxPendingOrders: config.MAX_PENDING_ORDERS,
      maxSearchesPerRequest: config.MAX_SEARCHES_PER_REQUEST,
    },
    trustProxy: config.TRUST_PROXY,
    payments: paymentProviders[config.PAYMENT_PROVIDER](),
    // src/ and dist/ (where this file is bundled) both sit two levels below apps/.
    ...(config.WEB_DIST_DIR === 'none'
      ? {}
      : { webRoot: config.WEB_DIST_DIR ?? join(import.meta.dirname, '..', '..', 'web', 'dist') }),
  });
  const server: Server = createKeelServer(listener, {
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  }).listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info(
      { url: `http://${config.HOST}:${port}`, env: config.NODE_ENV },
      'keel server listening',
    );
  });

  let shuttingDown = false;
  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: no new connections, waiting for requests in flight');
    const force = setTimeout(() => {
      logger.warn('shutdown timeout reached: closing remaining connections');
      server.closeAllConnections();
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    // close() stops accepting and waits for in-flight requests; idle
    // keep-alive sockets are closed now and busy ones after their response.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearInterval(sweep);
    clearTimeout(force);
    metricsServer?.closeAllConnections();
    await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(null)));
    await replica?.stop();
    await replicaDb?.destroy();
    await db.destroy();
    await tracing?.shutdown();
    logger.info('shutdown complete');
    await flushLogs(logger);
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A worker whose primary died (SIGKILL, say) gets no more connections: it drains and leaves.
  if (cluster.isWorker) process.on('disconnect', () => void shutdown('primary gone'));
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled rejection'),
  );
}
