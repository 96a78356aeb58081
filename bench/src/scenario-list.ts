import { join } from 'node:path';
import { createCaller, createInnerContext, encodeCursor, productSorts } from '@keel/api';
import { createDb, type DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type { BenchDatabase } from './bench-database';
import { repositoryRoot } from './bench-database';
import { benchEnv } from './env';
import { type ContenderResult, type LoadSpec, pairedRatios } from './load';
import { type RunningServer, roundsOnServers, startServer } from './processes';

export const poolSize = 10;
export const connections = 32;

/**
 * The storefront origin Keel's bench servers allow: CORS is on, as for a
 * frontend served from another origin, and A's and L's requests to Keel
 * carry it, as a browser's would (`fromShop`).
 */
export const shopOrigin = 'https://shop.example.com';

/** `next` with the shop's `Origin` header added to each request. */
export function fromShop(next: LoadSpec['next']): LoadSpec['next'] {
  return () => {
    const request = next();
    return { ...request, headers: { ...request.headers, origin: shopOrigin } };
  };
}

/** Environment of Keel's server as in production (built, keel_app, TLS, CORS for the shop). */
export function keelServerEnv(bench: BenchDatabase): Record<string, string> {
  return {
    NODE_ENV: 'production',
    CORS_ORIGINS: shopOrigin,
    DATABASE_URL: bench.appUrl,
    DATABASE_POOL_MAX: String(poolSize),
    LOG_LEVEL: benchEnv.BENCH_LOG_LEVEL,
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
    // Scenario D's clients keep thousands of orders open each.
    MAX_PENDING_ORDERS: '1000000000',
    // One address sends all of the load.
    READ_RATE_LIMIT_PER_MINUTE: '1000000000',
    MAX_BATCH_SIZE: '20',
  };
}

export const keelScript = join(repositoryRoot, 'apps', 'server', 'dist', 'main.mjs');

/** Scenario A's request to Keel: a page of 50 after `cursor`, as the client sends it (a batched GET). */
export function keelListPath(cursor: string): string {
  return `/trpc/products.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { limit: 50, cursor } } }))}`;
}

/** Scenario A's load on Keel: each request the next of `cursors`, in turn. */
export function cyclingThrough(cursors: string[]): LoadSpec['next'] {
  let i = 0;
  return fromShop(() => {
    i = (i + 1) % cursors.length;
    return { path: keelListPath(cursors[i] ?? '') };
  });
}

/** A cursor for the newest-first product list, in Keel's own format. */
export function newestCursor(createdAt: string, id: string): string {
  return encodeCursor(productSorts.newest, [createdAt, id]);
}

/** Random cursors spread over the whole table (for the newest-first sort). */
export async function sampleCursors(db: Kysely<DB>, count: number): Promise<string[]> {
  const { rows } = await sql<{ created_at: string; id: string }>`
    select created_at::text as created_at, id::text as id
    from products tablesample bernoulli (0.3) repeatable (42)
    where deleted_at is null and is_active limit ${count}`.execute(db);
  return rows.map((r) => newestCursor(r.created_at, r.id));
}

/** A statement Keel sent: its SQL text and parameters. */
export interface CapturedStatement {
  sql: string;
  params: unknown[];
}

/**
 * Runs `run` against Keel's procedures (as the bearer of `token`, if any) on
 * a pool of one connection as keel_app, and returns the statements it sent,
 * in order, captured from the log hook.
 */
export async function captureCalls(
  bench: BenchDatabase,
  token: string | null,
  run: (caller: ReturnType<typeof createCaller>) => Promise<unknown>,
): Promise<CapturedStatement[]> {
  const captured: CapturedStatement[] = [];
  const db = createDb({
    connectionString: bench.appUrl,
    maxConnections: 1,
    log: (event) => {
      if (event.level === 'query')
        captured.push({ sql: event.query.sql, params: [...event.query.parameters] });
    },
  });
  try {
    await run(createCaller(createInnerContext({ db, token })));
    return captured;
  } finally {
    await db.destroy();
  }
}

/** The exact SQL Keel's products.list sends for a page after a cursor, captured from its log hook. */
export async function capturedListSql(bench: BenchDatabase, cursor: string): Promise<string> {
  const statements = await captureCalls(bench, null, (c) => c.products.list({ limit: 50, cursor }));
  return statements.find((s) => s.sql.includes('from "products"'))?.sql ?? '';
}

export interface ListResult {
  servers: Record<string, ContenderResult>;
  /** Keel / Express throughput and p99, each the median of the rounds' own ratios. */
  keelVsExpress: number;
  keelVsExpressP99: number;
  keelVsNodeHttp: number;
}

/**
 * Scenario A: products.list (limit 50, random cursors) through Keel's real
 * client protocol (a batched GET) against two hand-written baselines with the
 * same SQL and pool size. Rounds are interleaved so machine noise hits all three.
 */
export async function listThroughput(
  bench: BenchDatabase,
  cursors: string[],
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
): Promise<ListResult> {
  const sqlText = await capturedListSql(bench, cursors[0] ?? '');
  const baselineEnv = {
    DATABASE_URL: bench.appUrl,
    DATABASE_POOL_MAX: String(poolSize),
    BENCH_SQL: sqlText,
  };
  const baselines = join(import.meta.dirname, 'baselines');
  const servers: RunningServer[] = [
    await startServer('keel', keelScript, keelServerEnv(bench), '/readyz'),
    await startServer(
      'express',
      join(baselines, 'express.mjs'),
      baselineEnv,
      `/products?cursor=${cursors[0]}`,
    ),
    await startServer(
      'node:http',
      join(baselines, 'node-http.mjs'),
      baselineEnv,
      `/products?cursor=${cursors[0]}`,
    ),
  ];
  const pathFor: Record<string, (cursor: string) => string> = {
    keel: keelListPath,
    express: (cursor) => `/products?cursor=${cursor}`,
    'node:http': (cursor) => `/products?cursor=${cursor}`,
  };
  // One cursor sequence shared by the three servers, round after round.
  let i = 0;
  const next = (name: string) => () => {
    i = (i + 1) % cursors.length;
    return { path: (pathFor[name] ?? String)(cursors[i] ?? '') };
  };
  const summary = await roundsOnServers(
    'A',
    servers,
    (server) => (server.name === 'keel' ? fromShop(next(server.name)) : next(server.name)),
    { ...options, connections, alternate: true },
    log,
  );
  const keel = summary.keel as ContenderResult;
  const express = pairedRatios(keel, summary.express as ContenderResult);
  return {
    servers: summary,
    keelVsExpress: express.rps,
    keelVsExpressP99: express.p99,
    keelVsNodeHttp: pairedRatios(keel, summary['node:http'] as ContenderResult).rps,
  };
}
