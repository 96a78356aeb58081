// `pnpm dev`: the embedded database (unless DATABASE_URL is set), migrations,
// development seed data when the database is empty, then the server under
// `tsx watch`, which restarts it on code changes while the database stays up.
// With `--production` (`pnpm start:local`), the same database with the
// production build instead: `node dist/main.mjs`, NODE_ENV=production, the
// storefront build served from the same origin. With KEEL_DEV_REPLICA=1, a
// streaming replica of the embedded server too, as DATABASE_REPLICA_URL.
// Ctrl-C stops the server first, then the replica, then the primary
// (`pg_ctl stop -m fast`).
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
let child: ChildProcess | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    const how = await target.release();
    if (target.embedded) {
      console.log(`embedded PostgreSQL stopped (${how})${target.replica ? ', replica first' : ''}`);
    }
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
  production
    ? `storefront: http://${host}:${port}/  (the production build, served by the API)`
    : `storefront: http://127.0.0.1:${env.WEB_PORT ?? '5173'}  (Vite, /trpc proxied to the API)`,
);
console.log('demo accounts:');
for (const a of developmentAccounts)
  console.log(`  ${a.role.padEnd(8)} ${a.email} / ${a.password}`);

const serverDir = join(import.meta.dirname, '..');
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
child = spawn(
  process.execPath,
  production
    ? [join(serverDir, 'dist', 'main.mjs')]
    : [tsxCli, 'watch', '--clear-screen=false', join(import.meta.dirname, 'main.ts')],
  {
    stdio: 'inherit',
    env: {
      ...env,
      DATABASE_URL: target.appUrl,
      ...(target.replicaAppUrl ? { DATABASE_REPLICA_URL: target.replicaAppUrl } : {}),
      ...(production
        ? { NODE_ENV: 'production' }
        : {
            NODE_ENV: env.NODE_ENV ?? 'development',
            // Vite serves the storefront in development; a stale build must not answer here.
            WEB_DIST_DIR: env.WEB_DIST_DIR ?? 'none',
          }),
    },
  },
);
child.on('exit', (code) => {
  if (!stopping) void stop(code ?? 1);
});
