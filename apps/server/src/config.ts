import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** More server processes than this is a typo, not a machine. */
const maxWorkers = 256;
const port = z.coerce.number().int().min(0).max(65_535);
const milliseconds = z.coerce.number().int().min(0);
const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  DATABASE_URL: z.url({
    protocol: /^postgres(ql)?$/,
    error: (issue) =>
      issue.input === undefined
        ? 'is not set; give the service connection (postgres://keel_app:…@host:5432/keel), or run `pnpm start:local` for the embedded database'
        : 'must be a postgres:// URL',
  }),
  /**
   * Server processes sharing the port (node:cluster): a whole number, or
   * `auto` for one per core the machine offers. Each has its own pool of
   * DATABASE_POOL_MAX connections.
   */
  WEB_CONCURRENCY: z
    .string()
    .trim()
    .default('1')
    .transform((value, ctx) => {
      const cores = availableParallelism();
      if (value === 'auto') return cores;
      const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(count >= 1 && count <= maxWorkers)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a whole number of server processes from 1 to ${maxWorkers}, or auto (one per core: ${cores} here); not "${value}"`,
        });
        return z.NEVER;
      }
      return count;
    }),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  /**
   * A streaming replica of DATABASE_URL (as keel_app). Set, catalogue reads
   * of customers and visitors go there while it is fit to serve; a second
   * pool of DATABASE_POOL_MAX connections.
   */
  DATABASE_REPLICA_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
    .optional(),
  /** The replica serves while its replay is at most this far behind the primary. */
  REPLICA_MAX_LAG_MS: z.coerce.number().int().min(100).default(5_000),
  /** How often the replica's reachability and lag are checked, in the background. */
  REPLICA_CHECK_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds.default(15_000),
  /** Behind PgBouncer (transaction mode), startup parameters must not be sent. */
  DATABASE_BEHIND_POOLER: flag,
  /**
   * Reads and writes as named prepared statements (parsed and planned once
   * per connection). Always off behind a pooler, whatever this says.
   */
  DATABASE_PREPARED_STATEMENTS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Queries slower than this are logged (SQL only, never parameters). */
  SLOW_QUERY_MS: milliseconds.default(200),
  SHUTDOWN_TIMEOUT_MS: milliseconds.default(10_000),
  /** A request (headers and body) must arrive within this, or it is answered 408. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Comma-separated origins allowed by CORS; empty allows none (same-origin only). */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ error: 'each CORS origin must be a URL like https://app.example.com' }))),
  /** Largest request body in bytes. */
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(10 * 1024 * 1024)
    .default(100 * 1024),
  /** Most calls in one batched request. */
  MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(20),
  /** auth.login / auth.register calls per client address per minute, across all instances. */
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /**
   * Where the sign-in limits (per address and per account) count: `postgres`
   * (the rate_limit_counters table, shared by every instance) or `memory`
   * (this process only: for a single process, e.g. development).
   */
  RATE_LIMIT_STORE: z.enum(['postgres', 'memory']).default('postgres'),
  /** Query calls (each call of a batch counts) per client address per minute, per instance. */
  READ_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(60).default(600),
  /** Text searches running at once in one process; the rest of the pool stays for plain reads. */
  MAX_CONCURRENT_SEARCHES: z.coerce.number().int().min(1).default(2),
  /** Text searches one HTTP request (a batch) may carry. */
  MAX_SEARCHES_PER_REQUEST: z.coerce.number().int().min(1).max(100).default(4),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 365)
    .default(24 * 7),
  /**
   * Which X-Forwarded-For hops to believe, as Express's `trust proxy` takes
   * them: `false` (none, the default), a hop count (`1` behind one proxy), or
   * proxy addresses and subnets (`10.0.0.1, loopback`). Never "everything":
   * `true` would let any client pick its address and dodge the rate limits.
   */
  TRUST_PROXY: z
    .string()
    .trim()
    .default('false')
    .transform((value, ctx) => {
      if (value === 'false' || value === '' || value === '0') return false as const;
      if (value === 'true') {
        ctx.addIssue({
          code: 'custom',
          message:
            'true would trust an X-Forwarded-For any client can write; give the number of proxies in front (e.g. 1) or their addresses (e.g. 10.0.0.1, loopback)',
        });
        return z.NEVER;
      }
      if (/^\d+$/.test(value)) return Number(value);
      const list = value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
      const bad = list.filter((part) => !named.has(part) && !isIP(part.split('/')[0] ?? ''));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be false, a hop count or proxy addresses/subnets; not ${bad.join(', ')}`,
        });
        return z.NEVER;
      }
      return list;
    }),
  /** Open (pending) orders one customer may hold; more → TOO_MANY_REQUESTS. */
  MAX_PENDING_ORDERS: z.coerce.number().int().min(1).default(5),
  /**
   * Where `orders.pay` charges cards. Only `test` is built in (test card
   * numbers approve or decline, nothing is charged); a real provider is one
   * implementation of the PaymentProvider interface (docs/worker.md).
   */
  PAYMENT_PROVIDER: z.enum(['test']).default('test'),
  /** The storefront build to serve; default apps/web/dist beside this server; `none` serves none. */
  WEB_DIST_DIR: z.string().min(1).optional(),
  /** Prometheus metrics on a listener of their own at this port; unset, there are none. */
  METRICS_PORT: port.optional(),
  /** Where the metrics listener binds; never the public interface unless asked. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** An OTLP/HTTP collector (e.g. http://127.0.0.1:4318); set, spans are sent there. Unset, no tracing. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** The `service.name` of the spans. */
  OTEL_SERVICE_NAME: z.string().min(1).default('keel'),
  /** Headers for the collector, `key=value` pairs separated by commas (e.g. an API key). */
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const headers: Record<string, string> = {};
      for (const pair of value.split(',').filter((p) => p.trim())) {
        const at = pair.indexOf('=');
        if (at <= 0) {
          ctx.addIssue({ code: 'custom', message: 'must be key=value pairs separated by commas' });
          return z.NEVER;
        }
        headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(
          pair.slice(at + 1).trim(),
        );
      }
      return headers;
    }),
});

/** The server's validated configuration. */
export type Config = z.infer<typeof schema>;

/** The names of every variable the server reads; `turbo.json` must let each through (tested). */
export const serverVariables = Object.keys(schema.shape);

/** Every problem with the environment, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The one reader of `process.env` in the server: parses and validates every
 * variable, and reports all problems at once.
 *
 * @example
 * ```ts
 * const config = loadConfig({ DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1:5432/keel' });
 * ```
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema
    .refine((c) => c.REPLICA_CHECK_INTERVAL_MS <= c.REPLICA_MAX_LAG_MS, {
      path: ['REPLICA_CHECK_INTERVAL_MS'],
      error: 'must not exceed REPLICA_MAX_LAG_MS: a lag is only seen at a check',
    })
    .safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map(
        (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
      ),
    );
  }
  if (result.data.RATE_LIMIT_STORE === 'memory' && result.data.WEB_CONCURRENCY > 1) {
    // Each worker would count on its own: N times the attempts.
    throw new ConfigError([
      `RATE_LIMIT_STORE: memory counts in one process, but WEB_CONCURRENCY runs ${result.data.WEB_CONCURRENCY}; use postgres (the default)`,
    ]);
  }
  return result.data;
}

/** The raw environment, for the dev supervisor that hands it to the database tooling. */
export function rawEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}
