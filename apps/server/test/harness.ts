import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/**
 * The service as its own process (`node <args>`: the built bundle, or
 * src/main.ts under tsx) on a free port, with `env` on top of this one's and
 * no storefront; resolves once /healthz answers. `stop` sends SIGTERM and
 * waits for the exit (the graceful shutdown); `kill` sends SIGKILL (a crash,
 * or cleanup) and resolves once the process is gone.
 */
export async function startServiceProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ base: string; stop(): Promise<void>; kill(): Promise<void> }> {
  const port = await findFreePort();
  const service = spawn(process.execPath, args, {
    env: { ...process.env, PORT: String(port), WEB_DIST_DIR: 'none', LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => service.once('exit', () => resolve()));
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
        `the service (node ${args.join(' ')}) ${service.exitCode !== null ? `exited with ${service.exitCode}` : 'did not answer /healthz within 30 s'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    stop: async () => {
      service.kill('SIGTERM');
      await exited;
    },
    kill,
  };
}
