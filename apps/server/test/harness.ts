import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createKeelClient, type KeelClient } from '@keel/client';
import { createDb, type DB } from '@keel/db';
import { findFreePort } from '@keel/platform';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { type AppDeps, createRequestListener } from '../src/app';

/** The real app on an ephemeral port, and a way to count HTTP requests. */
export interface RunningApp {
  url: string;
  trpcUrl: string;
  /** HTTP requests the clients made through `client()`. */
  requests: string[];
  client(token?: string): KeelClient;
  close(): Promise<void>;
}

/**
 * Starts the real request handler on 127.0.0.1 with an ephemeral port. The
 * suites drive customers through more open orders than production allows
 * (`MAX_PENDING_ORDERS`), so the cap is raised unless a test sets it.
 */
export async function startApp(
  db: Kysely<DB>,
  options: Partial<Omit<AppDeps, 'db' | 'logger'>> = {},
): Promise<RunningApp> {
  const server: Server = createServer(
    createRequestListener({
      db,
      logger: pino({ level: 'silent' }),
      // The suites read far faster than a person: the read limit is hardening.test.ts's concern.
      readRateLimitPerMinute: 1_000_000,
      ...options,
      settings: { maxPendingOrders: 100_000, ...options.settings },
    }),
  ).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requests: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    requests.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  return {
    url,
    trpcUrl: `${url}/trpc`,
    requests,
    client: (token) =>
      createKeelClient({ url: `${url}/trpc`, fetch: countingFetch, ...(token ? { token } : {}) }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A pool as keel_app for a test database URL, with named prepared statements as the service runs it. */
export function appDb(url: string, maxConnections = 10): Kysely<DB> {
  return createDb({
    connectionString: url,
    maxConnections,
    connectionTimeoutMs: 1_000,
    preparedStatements: true,
  });
}

/** A service process started by `startServiceProcess`. */
export interface ServiceProcess {
  base: string;
  /** The process node started (with WEB_CONCURRENCY > 1, the cluster's primary). */
  pid: number;
  /** Everything it wrote so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then its exit code once it has exited (the graceful shutdown). */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash, or cleanup); resolves once the process is gone. */
  kill(): Promise<number | null>;
}

/**
 * The service as its own process (`node <args>`: the built bundle, or
 * src/main.ts under tsx) on a free port, with `env` on top of this one's and
 * no storefront; resolves once /healthz answers. `stop` sends SIGTERM and
 * resolves with the exit code (the graceful shutdown); `kill` sends SIGKILL
 * (a crash, or cleanup) and resolves once the process is gone.
 */
export async function startServiceProcess(
  args: string[],
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await findFreePort();
  const service = spawn(process.execPath, args, {
    env: { ...process.env, PORT: String(port), WEB_DIST_DIR: 'none', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  service.stdout.on('data', collect);
  service.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    service.once('exit', (code) => resolve(code)),
  );
  const kill = () => {
    if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    return exited;
  };
  const base = `http://127.0.0.1:${port}`;
  // A plain loop rather than expect.poll, so that a beforeAll can start it too.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await fetch(`${base}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (service.exitCode !== null || Date.now() > deadline) {
      await kill();
      throw new Error(
        `the service (node ${args.join(' ')}) ${service.exitCode !== null ? `exited with ${service.exitCode}` : 'did not answer /healthz within 30 s'}\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    pid: service.pid ?? 0,
    output: () => output,
    stop: async () => {
      service.kill('SIGTERM');
      return exited;
    },
    kill,
  };
}

/**
 * Builds the production bundle with apps/server/build.mjs into a directory
 * of the caller's own (inside the package, so that the bundle's npm imports
 * resolve from its node_modules); `remove` deletes it.
 */
export function buildServerBundle(): { main: string; dir: string; remove(): void } {
  const serverDir = join(import.meta.dirname, '..');
  const dir = mkdtempSync(join(serverDir, '.build-test-'));
  execFileSync(process.execPath, ['build.mjs', dir], { cwd: serverDir, stdio: 'ignore' });
  return {
    main: join(dir, 'main.mjs'),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
