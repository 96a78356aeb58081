// The worker process: `pnpm --filter @keel/worker start` runs its build
// (dist/main.mjs); `pnpm dev` runs it beside the API. SIGTERM or SIGINT
// finishes the jobs in hand and exits 0.
import '@keel/runtime/require-node';
import { createDb } from '@keel/db';
import pino from 'pino';
import { loadWorkerConfig, WorkerConfigError } from './config';
import { createWebhookSender } from './webhook';
import { startWorker } from './worker';

let config: ReturnType<typeof loadWorkerConfig>;
try {
  config = loadWorkerConfig();
} catch (error) {
  if (error instanceof WorkerConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const logger = pino({ level: config.LOG_LEVEL, base: { service: 'keel-worker' } });
const db = createDb({
  connectionString: config.DATABASE_URL,
  maxConnections: config.WORKER_DATABASE_POOL_MAX,
});
const worker = await startWorker({
  db,
  databaseUrl: config.DATABASE_URL,
  logger,
  concurrency: config.WORKER_CONCURRENCY,
  pendingOrderTtlSeconds: config.PENDING_ORDER_TTL_SECONDS,
  eventPollMs: config.WORKER_EVENT_POLL_MS,
  ...(config.ORDER_WEBHOOK_URL && config.ORDER_WEBHOOK_SECRET
    ? {
        webhook: {
          send: createWebhookSender({
            url: config.ORDER_WEBHOOK_URL,
            secret: config.ORDER_WEBHOOK_SECRET,
            timeoutMs: config.ORDER_WEBHOOK_TIMEOUT_MS,
          }),
          maxAttempts: config.ORDER_WEBHOOK_MAX_ATTEMPTS,
          retryBaseMs: config.ORDER_WEBHOOK_RETRY_BASE_MS,
          retryMaxMs: config.ORDER_WEBHOOK_RETRY_MAX_MS,
        },
      }
    : {}),
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: finishing the jobs in hand');
  try {
    await worker.stop(config.WORKER_SHUTDOWN_TIMEOUT_MS);
    await db.destroy();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'stopping failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
