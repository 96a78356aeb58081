// Metrics: prom-client on a listener of its own, never the public port;
// calls counted per procedure path and outcome code (never by raw URL), the
// pool, slow queries, rate-limit refusals, default process metrics.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keelErrorCode } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config';
import { createServiceDb } from '../src/database';
import { createMetrics, startMetricsServer } from '../src/metrics';
import { startApp } from './harness';

const testDb = await createTestDatabase();
const metrics = createMetrics();
// The service's own pool: every query counts as slow (SLOW_QUERY_MS=0).
const db = createServiceDb(
  loadConfig({ DATABASE_URL: testDb.urls.app, SLOW_QUERY_MS: '0', DATABASE_POOL_MAX: '4' }),
  pino({ level: 'silent' }),
  { metrics },
);
const app = await startApp(db, { metrics, readRateLimitPerMinute: 60 });
const scrapes: Server = await startMetricsServer(
  metrics.registry,
  '127.0.0.1',
  0,
  pino({ level: 'silent' }),
);
const metricsUrl = `http://127.0.0.1:${(scrapes.address() as AddressInfo).port}/metrics`;
afterAll(async () => {
  await app.close();
  await new Promise((resolve) => scrapes.close(resolve));
  await db.destroy();
  await testDb.destroy();
});

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('metrics', () => {
  test('calls are counted per procedure and outcome code, each call of a batch once', async () => {
    const client = app.client();
    await Promise.all([
      client.products.list.query({ limit: 2 }),
      client.products.list.query({ limit: 3 }),
      client.products.byId.query({ id: randomUUID() }).catch((e: unknown) => e),
    ]);
    const invalid = await client.products.list.query({ limit: 0 }).catch((e: unknown) => e);
    expect(keelErrorCode(invalid)).toBe('BAD_REQUEST');
    const text = await (await fetch(metricsUrl)).text();
    const count = (procedure: string, code: string) =>
      sample(text, 'keel_procedure_duration_seconds_count', { procedure, code });
    expect(count('products.list', 'OK')).toBe(2);
    expect(count('products.byId', 'NOT_FOUND')).toBe(1);
    expect(count('products.list', 'BAD_REQUEST')).toBe(1);
    expect(
      sample(text, 'keel_procedure_duration_seconds_bucket', {
        procedure: 'products.list',
        code: 'OK',
        le: '+Inf',
      }),
    ).toBe(2);
    // Labels name procedures, never raw URLs (no query strings, no ids).
    const labels = [...text.matchAll(/procedure="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.every((l) => /^[a-zA-Z]+\.[a-zA-Z]+$/.test(l))).toBe(true);
    // One HTTP response per request: the batch (207, its calls disagree) and the invalid call (400).
    expect(sample(text, 'keel_http_responses_total', { status: '207' })).toBe(1);
    expect(sample(text, 'keel_http_responses_total', { status: '400' })).toBe(1);
  });

  test('the pool, slow queries and the default process metrics are reported', async () => {
    const text = await (await fetch(metricsUrl)).text();
    expect(sample(text, 'keel_db_pool_connections', { state: 'max' })).toBe(4);
    expect(sample(text, 'keel_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'keel_db_pool_connections', { state: 'waiting' })).toBe(0);
    expect(text).toMatch(/^keel_db_slow_queries_total [1-9]\d*$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  test('rate-limit refusals are counted per procedure', async () => {
    // 60 reads a minute, 10 saved up: the burst below runs out.
    const results = await Promise.all(
      Array.from({ length: 15 }, () =>
        app
          .client()
          .health.check.query()
          .then(
            () => 'OK',
            (e: unknown) => keelErrorCode(e),
          ),
      ),
    );
    const refused = results.filter((r) => r === 'TOO_MANY_REQUESTS').length;
    expect(refused).toBeGreaterThan(0);
    const text = await (await fetch(metricsUrl)).text();
    expect(sample(text, 'keel_rate_limit_refusals_total', { procedure: 'health.check' })).toBe(
      refused,
    );
  }, 30_000);

  test('/metrics is not on the public port, and the metrics listener serves nothing else', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(404);
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404);
    const scrape = await fetch(metricsUrl);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
