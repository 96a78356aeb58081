// `pnpm dev`: the embedded database (unless DATABASE_URL is set), migrations,
// development seed data when the database is empty, then the server and the
// worker (apps/worker) under `tsx watch`, which restarts each on code changes
// while the database stays up. With `--production` (`pnpm start:local`), the
// same database with the production builds instead (`node dist/main.mjs` of
// each), NODE_ENV=production, the storefront build served from the same
// origin. With KEEL_DEV_REPLICA=1, a streaming replica of the embedded server
// too, as the server's DATABASE_REPLICA_URL. Ctrl-C stops the server and the
// worker first (the worker finishes the job in hand), then the replica, then
// the primary (`pg_ctl stop -m fast`).
// It runs as `node --import tsx src/dev.ts`, not under the tsx CLI: that CLI
// relays Ctrl-C to its child and SIGKILLs it when the child has not confirmed
// the signal within 30 ms, and a SIGKILLed supervisor leaves PostgreSQL (in a
// session of its own) running with no one to stop it.
import '@keel/runtime/require-node';
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createDb, migrate } from '@keel/db';
import {
  adminDb,
  developmentAccounts,
  localDatabaseOptionsFromEnv,
  openLocalDatabase,
  seedDevelopmentData,
} from '@keel/platform';
import { rawEnvironment } from './config';

const env = rawEnvironment();
const production = process.argv.includes('--production');
const target = await openLocalDatabase({
  ...localDatabaseOptionsFromEnv('own', env),
  onLog: () => {},
});
const children: ChildProcess[] = [];
let stopping: Promise<never> | undefined;

/**
 * Stops the children, then the database, then exits. A second Ctrl-C (or
 * any later call) waits for the same stop: exiting at once would leave
 * PostgreSQL running with no one to stop it.
 */
function stop(code: number): Promise<never> {
  stopping ??= stopAll(code);
  return stopping;
}

async function stopAll(code: number): Promise<never> {
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    }),
  );
  const how = await target.release();
  if (target.embedded) {
    console.log(`embedded PostgreSQL stopped (${how})${target.replica ? ', replica first' : ''}`);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
// The API would answer 503 forever without its database: say so and stop.
target.embedded?.onUnexpectedExit((code, signal) => {
  console.error(
    `embedded PostgreSQL stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); pnpm dev stops too, run it again`,
  );
  void stop(1);
});
// The service falls back to the primary on its own when the replica goes; say why.
target.replica?.onUnexpectedExit((code, signal) => {
  console.error(
    `the streaming replica stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); catalogue reads go to the primary`,
  );
});

try {
  const owner = adminDb(target.ownerUrl);
  try {
    const applied = await migrate(owner, 'latest');
    console.log(
      applied.length
        ? `migrations applied: ${applied.map((r) => r.migrationName).join(', ')}`
        : 'schema is up to date',
    );
  } finally {
    await owner.destroy();
  }
  const ownerDb = createDb({ connectionString: target.ownerUrl, maxConnections: 2 });
  try {
    const anyUser = await ownerDb.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (!anyUser) {
      const inserted = await seedDevelopmentData(ownerDb);
      console.log(
        `empty database: seeded ${inserted.users} users, ${inserted.products} products, ${inserted.orders} orders`,
      );
    }
  } finally {
    await ownerDb.destroy();
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await stop(1);
}

const port = env.PORT ?? '3000';
const host = env.HOST ?? '127.0.0.1';
if (target.embedded) {
  console.log(
    `embedded PostgreSQL 18 on ${target.embedded.host}:${target.embedded.port} (TLS), data in ${target.embedded.dataDir}`,
  );
}
if (target.replica) {
  console.log(
    `streaming replica on ${target.replica.host}:${target.replica.port} (TLS), data in ${target.replica.dataDir}: catalogue reads go there`,
  );
}
console.log(`Keel API: http://${host}:${port}/trpc  health: http://${host}:${port}/healthz`);
console.log(
  `worker: unpaid orders expire after ${env.PENDING_ORDER_TTL_SECONDS ?? '1800'} s; order events ${env.ORDER_WEBHOOK_URL ? `go to ${env.ORDER_WEBHOOK_URL}` : 'wait in the outbox (ORDER_WEBHOOK_URL is not set)'}`,
);
console.log(
  production
    ? `storefront: http://${host}:${port}/  (the production build, served by the API)`
    : `storefront: http://127.0.0.1:${env.WEB_PORT ?? '5173'}  (Vite, /trpc proxied to the API)`,
);
console.log('demo accounts:');
for (const a of developmentAccounts)
  console.log(`  ${a.role.padEnd(8)} ${a.email} / ${a.password}`);

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
/** One app (its folder under apps/): its build in production, its source under tsx watch otherwise. */
function run(app: 'server' | 'worker', extraEnv: NodeJS.ProcessEnv): void {
  const appDir = join(import.meta.dirname, '..', '..', app);
  const child = spawn(
    process.execPath,
    production
      ? [join(appDir, 'dist', 'main.mjs')]
      : [tsxCli, 'watch', '--clear-screen=false', join(appDir, 'src', 'main.ts')],
    {
      stdio: 'inherit',
      env: {
        ...env,
        DATABASE_URL: target.appUrl,
        NODE_ENV: production ? 'production' : (env.NODE_ENV ?? 'development'),
        ...extraEnv,
      },
    },
  );
  children.push(child);
  // Either one stopping stops everything: a half-running shop is not a dev setup.
  child.on('exit', (code) => {
    if (!stopping) void stop(code ?? 1);
  });
}
run('server', {
  ...(target.replicaAppUrl ? { DATABASE_REPLICA_URL: target.replicaAppUrl } : {}),
  // Vite serves the storefront in development; a stale build must not answer here.
  ...(production ? {} : { WEB_DIST_DIR: env.WEB_DIST_DIR ?? 'none' }),
});
run('worker', {});
