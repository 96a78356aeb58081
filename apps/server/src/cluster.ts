// WEB_CONCURRENCY > 1: this process is the cluster's primary. It checks the
// connection budget, forks the server processes (which share the port:
// node:cluster's primary accepts connections and hands them out in turn),
// replaces one that dies, and on SIGTERM or SIGINT lets every one drain and
// exits 0 once all are gone. It never serves a request itself.
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config';
import { checkConnectionBudget } from './connection-budget';
import { flushLogs } from './logger';

/** How the primary replaces a dead worker. */
export const restartPolicy = {
  /** A worker that lived less than this died "early"; one that lived longer starts the count again. */
  stableAfterMs: 10_000,
  /** The wait before the first restart, doubled at each early death of the same slot. */
  firstDelayMs: 250,
  maxDelayMs: 10_000,
  /** Early deaths in a row of one slot after which the primary gives up and exits 1. */
  maxEarlyDeaths: 5,
};

/**
 * Refuses to start (exit 2) a cluster whose pools could open more
 * connections than PostgreSQL lets this role have. Behind PgBouncer the
 * server-side connections are PgBouncer's pool, not ours, so there is nothing
 * to check; an unreachable database is not a reason to stay down (readiness
 * says 503 until it answers), so the check is then skipped with a warning.
 */
async function checkBudgetOrExit(config: Config, logger: Logger): Promise<void> {
  const workers = config.WEB_CONCURRENCY;
  const poolMax = config.DATABASE_POOL_MAX;
  if (config.DATABASE_BEHIND_POOLER) {
    logger.info(
      { workers, poolMax },
      'connection budget not checked: behind a pooler, its pool size bounds the server connections',
    );
    return;
  }
  let verdict: Awaited<ReturnType<typeof checkConnectionBudget>>;
  try {
    verdict = await checkConnectionBudget(config.DATABASE_URL, workers, poolMax);
  } catch (error) {
    logger.warn(
      { err: { message: (error as Error).message }, workers, poolMax },
      'connection budget not checked: the database did not answer; starting the workers anyway',
    );
    return;
  }
  if (verdict.refusals.length > 0) {
    console.error(
      `connection budget exceeded:\n${verdict.refusals.map((r) => `  - ${r}`).join('\n')}`,
    );
    await flushLogs(logger);
    process.exit(2);
  }
  for (const warning of verdict.warnings) logger.warn({ open: verdict.limits.open }, warning);
  logger.info(
    { workers, poolMax, connections: verdict.needed, limits: verdict.limits },
    'connection budget checked',
  );
}

/** Serves METRICS_PORT on the primary with every worker's numbers summed. */
async function startClusterMetrics(config: Config, logger: Logger): Promise<Server | undefined> {
  if (config.METRICS_PORT === undefined) return undefined;
  const { clusterMetricsSource, startMetricsServer } = await import('./metrics');
  try {
    const server = await startMetricsServer(
      clusterMetricsSource(),
      config.METRICS_HOST,
      config.METRICS_PORT,
      logger,
    );
    logger.info(
      { url: `http://${config.METRICS_HOST}:${config.METRICS_PORT}/metrics` },
      'metrics listening (all workers)',
    );
    return server;
  } catch (err) {
    logger.fatal({ err }, `metrics cannot listen on ${config.METRICS_HOST}:${config.METRICS_PORT}`);
    await flushLogs(logger);
    process.exit(1);
  }
}

/**
 * Runs the cluster: WEB_CONCURRENCY workers, each `serve()` with its own
 * pool, kept at that number until SIGTERM or SIGINT.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const count = config.WEB_CONCURRENCY;
  await checkBudgetOrExit(config, logger);
  const metricsServer = await startClusterMetrics(config, logger);

  const live = new Set<Worker>();
  const earlyDeaths: number[] = Array.from({ length: count }, () => 0);
  const restarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  let exitCode = 0;

  const finish = async () => {
    metricsServer?.closeAllConnections();
    await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(null)));
    logger.info({ exitCode }, exitCode === 0 ? 'all workers stopped' : 'cluster stopped');
    await flushLogs(logger);
    process.exit(exitCode);
  };

  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of restarts) clearTimeout(timer);
    logger.info(
      { reason, workers: live.size },
      'shutting down: every worker finishes its requests in flight',
    );
    if (live.size === 0) return void finish();
    for (const worker of live) worker.process.kill('SIGTERM');
    // Each worker closes its own stragglers at SHUTDOWN_TIMEOUT_MS; this is
    // for one that hangs past that.
    setTimeout(() => {
      logger.error(
        { workers: [...live].map((w) => w.process.pid) },
        'workers did not stop: killed',
      );
      exitCode = 1;
      for (const worker of live) worker.process.kill('SIGKILL');
    }, config.SHUTDOWN_TIMEOUT_MS + 5_000).unref();
  };

  const fork = (slot: number) => {
    const worker = cluster.fork();
    const forkedAt = performance.now();
    live.add(worker);
    worker.once('listening', () =>
      logger.info({ worker: worker.process.pid, slot }, 'worker listening'),
    );
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      if (stopping) {
        // Killed by the signal itself: a worker still starting, with no handler yet and no requests.
        if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT') exitCode = 1;
        if (live.size === 0) void finish();
        return;
      }
      const lived = performance.now() - forkedAt;
      const early = lived < restartPolicy.stableAfterMs ? (earlyDeaths[slot] ?? 0) + 1 : 1;
      earlyDeaths[slot] = early;
      if (early >= restartPolicy.maxEarlyDeaths) {
        logger.fatal(
          { worker: worker.process.pid, code, signal, earlyDeaths: early },
          `worker keeps dying within ${restartPolicy.stableAfterMs} ms of its start: giving up`,
        );
        stop('crash loop', 1);
        return;
      }
      const delay = Math.min(
        restartPolicy.firstDelayMs * 2 ** (early - 1),
        restartPolicy.maxDelayMs,
      );
      logger.error(
        {
          worker: worker.process.pid,
          code,
          signal,
          livedMs: Math.round(lived),
          restartInMs: delay,
        },
        'worker died; starting another',
      );
      const timer = setTimeout(() => {
        restarts.delete(timer);
        fork(slot);
      }, delay);
      restarts.add(timer);
    });
  };

  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled rejection'),
  );
  logger.info(
    { workers: count, poolMaxPerWorker: config.DATABASE_POOL_MAX },
    'cluster primary: starting workers',
  );
  for (let slot = 0; slot < count; slot += 1) fork(slot);
}
