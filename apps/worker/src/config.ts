import { z } from 'zod';

const milliseconds = z.coerce.number().int().min(0);

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATABASE_URL: z.url({
      protocol: /^postgres(ql)?$/,
      error: (issue) =>
        issue.input === undefined
          ? 'is not set; give the service connection (postgres://keel_app:…@host:5432/keel); `pnpm dev` sets it'
          : 'must be a postgres:// URL',
    }),
    /** Connections of this worker process: its jobs, its poll and its sweep (pg-boss has its own). */
    WORKER_DATABASE_POOL_MAX: z.coerce.number().int().min(3).max(100).default(10),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** Jobs one worker process runs at once. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(8),
    /**
     * How often the worker polls the outbox for new order events. An event
     * waits about half of this, on average, between its commit and its
     * delivery job. Polling replaced LISTEN/NOTIFY (migration 0013), whose
     * serialised commits slowed the placing of orders.
     */
    WORKER_EVENT_POLL_MS: z.coerce.number().int().min(10).max(5_000).default(50),
    /** How long a SIGTERM waits for the jobs in hand before the process exits anyway. */
    WORKER_SHUTDOWN_TIMEOUT_MS: milliseconds.default(30_000),
    /** An unpaid order older than this is cancelled and its stock restored. */
    PENDING_ORDER_TTL_SECONDS: z.coerce.number().int().min(1).default(1800),
    /** Where order events are POSTed; unset, they wait in the outbox. */
    ORDER_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** The Standard Webhooks signing secret: `whsec_` and base64. */
    ORDER_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, {
        error: 'must be whsec_ followed by a base64 key of at least 12 bytes',
      })
      .optional(),
    /**
     * A delivery without an answer within this is a failed try. At most 25 s:
     * the delivery holds a transaction open (the app role ends a transaction
     * idle for 30 s).
     */
    ORDER_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(25_000).default(10_000),
    /** Tries of one event before it is given up on (and kept for an admin to retry). */
    ORDER_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
    /** The wait after the first failed try; each further one doubles it, with jitter. */
    ORDER_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5_000),
    /** The longest wait between tries. */
    ORDER_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).default(3_600_000),
  })
  .superRefine((env, ctx) => {
    // Each delivery holds a connection through its webhook call. The other
    // two are shared, each briefly, by the poll (every WORKER_EVENT_POLL_MS),
    // the sweep and the expiry job: with one, the poll would often wait
    // behind the others while every delivery is busy.
    if (env.WORKER_DATABASE_POOL_MAX < env.WORKER_CONCURRENCY + 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_DATABASE_POOL_MAX'],
        message: `must be at least WORKER_CONCURRENCY + 2 (${env.WORKER_CONCURRENCY + 2}): each delivery holds a connection, and the poll of new events, the sweep and the expiry job share two more`,
      });
    }
    if (env.ORDER_WEBHOOK_URL && !env.ORDER_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['ORDER_WEBHOOK_SECRET'],
        message: 'is required with ORDER_WEBHOOK_URL: every delivery is signed',
      });
    }
  });

/** The worker's validated configuration. */
export type WorkerConfig = z.infer<typeof schema>;

/** The names of every variable the worker reads; `turbo.json` must let each through (tested). */
export const workerVariables = Object.keys(schema.shape);

/** Every problem with the environment, one per line. */
export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

/**
 * The one reader of `process.env` in the worker: parses and validates every
 * variable, and reports all problems at once.
 *
 * @example
 * ```ts
 * const config = loadWorkerConfig({ DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1:5432/keel' });
 * ```
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new WorkerConfigError(
      result.error.issues.map(
        (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
      ),
    );
  }
  return result.data;
}
