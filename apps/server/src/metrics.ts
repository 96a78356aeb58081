// Prometheus metrics (prom-client) on a listener of their own, never on the
// public port: per-procedure call counts and durations by outcome code,
// HTTP responses by status, the pools' connections, slow queries, rate-limit
// refusals, the read replica's state, and prom-client's default process and
// Node.js metrics. With WEB_CONCURRENCY > 1 the cluster's primary serves the
// listener and sums its workers' registries (prom-client's AggregatorRegistry,
// made for node:cluster).
import { createServer, type Server } from 'node:http';
import type { CallWrapper } from '@keel/api';
import type pg from 'pg';
import type { Logger } from 'pino';
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';

/** What the server reports into; `registry` is what the listener serves. */
export interface Metrics {
  registry: Registry;
  /** Times every procedure call, labelled by procedure path and outcome code. */
  aroundCall: CallWrapper;
  /** One HTTP response of the public listener, by status code. */
  response(status: number): void;
  /** One query slower than SLOW_QUERY_MS. */
  slowQuery(): void;
  /** Reports the pool's total, idle and waiting counts at each scrape. */
  watchPool(pool: pg.Pool, max: number, name?: 'primary' | 'replica'): void;
  /** Catalogue reads moved to the replica or back to the primary. */
  replicaTransition(to: 'replica' | 'primary'): void;
  /** The replica's lag as the last background check measured it. */
  replicaLag(ms: number): void;
}

/**
 * A registry of Keel's metrics. Labels are bounded: procedure paths come
 * from the router (an unknown path never reaches a procedure), codes from
 * tRPC's fixed list, statuses from HTTP's.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const calls = new Histogram({
    name: 'keel_procedure_duration_seconds',
    help: 'tRPC procedure calls (each call of a batch counts) by procedure path and outcome code',
    labelNames: ['procedure', 'type', 'code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'keel_rate_limit_refusals_total',
    help: 'Calls refused with TOO_MANY_REQUESTS (sign-in, read and search limits, open-order cap), by procedure',
    labelNames: ['procedure'] as const,
    registers: [registry],
  });
  const responses = new Counter({
    name: 'keel_http_responses_total',
    help: 'HTTP responses of the public listener by status code (a batch is one response)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const slow = new Counter({
    name: 'keel_db_slow_queries_total',
    help: 'Queries slower than SLOW_QUERY_MS (each is also logged, SQL only)',
    registers: [registry],
  });
  const pools: { pool: pg.Pool; max: number; name: string }[] = [];
  new Gauge({
    name: 'keel_db_pool_connections',
    help: 'Connections of the service pools (primary, and replica when DATABASE_REPLICA_URL is set): total, idle, and requests waiting for one; max is DATABASE_POOL_MAX',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    collect() {
      for (const { pool, max, name } of pools) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
        this.set({ pool: name, state: 'max' }, max);
      }
    },
  });
  const replicaTransitions = new Counter({
    name: 'keel_replica_transitions_total',
    help: 'Catalogue reads moved to the replica (to="replica") or back to the primary (to="primary": the replica was unreachable, not a standby, or lagging)',
    labelNames: ['to'] as const,
    registers: [registry],
  });
  const replicaServing = new Gauge({
    name: 'keel_replica_serving',
    help: '1 while catalogue reads go to the replica, 0 while they go to the primary',
    registers: [registry],
  });
  const replicaLag = new Gauge({
    name: 'keel_replica_lag_seconds',
    help: "The replica's lag at the last background check: how long ago the primary had flushed the oldest WAL the replica has not replayed yet (0 when it has replayed everything)",
    registers: [registry],
  });
  return {
    registry,
    async aroundCall(call, run, outcome) {
      const started = performance.now();
      const result = await run();
      const code = outcome(result);
      calls.observe(
        { procedure: call.path, type: call.type, code },
        (performance.now() - started) / 1_000,
      );
      if (code === 'TOO_MANY_REQUESTS') refusals.inc({ procedure: call.path });
      return result;
    },
    response: (status) => responses.inc({ status: String(status) }),
    slowQuery: () => slow.inc(),
    watchPool: (pool, max, name = 'primary') => {
      pools.push({ pool, max, name });
    },
    replicaTransition(to) {
      replicaTransitions.inc({ to });
      replicaServing.set(to === 'replica' ? 1 : 0);
    },
    replicaLag: (ms) => replicaLag.set(ms / 1_000),
  };
}

/** What a scrape reads: one process's registry, or the cluster primary's view of all its workers. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/**
 * In a cluster worker: answers the primary's requests for this worker's
 * numbers (prom-client installs that listener when an AggregatorRegistry is
 * made; this one is never scraped itself).
 */
export function reportToPrimary(metrics: Metrics): void {
  AggregatorRegistry.setRegistries(metrics.registry);
  new AggregatorRegistry();
}

/**
 * On the cluster primary: every live worker's registry, merged by each
 * metric's aggregator: counters, histograms and the pool gauge are summed
 * (so `keel_db_pool_connections{pool="primary",state="max"}` is WEB_CONCURRENCY ×
 * DATABASE_POOL_MAX), event-loop lag is averaged, and the start time omitted.
 */
export function clusterMetricsSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return {
    metrics: () => aggregator.clusterMetrics(),
    contentType: aggregator.contentType,
  };
}

/**
 * Serves `GET /metrics` on its own listener (METRICS_HOST:METRICS_PORT,
 * 127.0.0.1 by default), so scrapes never share the public port, its
 * limits or its logs. Anything else is 404.
 */
export function startMetricsServer(
  source: MetricsSource,
  host: string,
  port: number,
  logger: Logger,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    source.metrics().then(
      (text) => res.writeHead(200, { 'content-type': source.contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
