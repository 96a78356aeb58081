// Tracing (OTEL_EXPORTER_OTLP_ENDPOINT in production; an in-memory exporter
// here): one server span per HTTP request, one span per procedure call
// under it, one span per SQL statement under the call that ran it.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestDatabase } from '@keel/platform/testing';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { afterAll, beforeEach, expect, test } from 'vitest';
import { loadConfig } from '../src/config';
import { createServiceDb } from '../src/database';
import { startTracing } from '../src/tracing';
import { startApp, startServiceProcess } from './harness';

const testDb = await createTestDatabase();
const exporter = new InMemorySpanExporter();
const tracing = startTracing({ exporter, serviceName: 'keel-test', batch: false });
const db = createServiceDb(
  loadConfig({ DATABASE_URL: testDb.urls.app }),
  pino({ level: 'silent' }),
  { tracing },
);
const app = await startApp(db, { tracing });
afterAll(async () => {
  await app.close();
  await db.destroy();
  await tracing.shutdown();
  await testDb.destroy();
});
beforeEach(() => exporter.reset());

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const id = (span: ReadableSpan) => span.spanContext().spanId;

/** Spans end a moment after the response is read: wait until `count` are in. */
async function spans(count: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 100 && exporter.getFinishedSpans().length < count; i += 1)
    await new Promise((r) => setTimeout(r, 10));
  return exporter.getFinishedSpans();
}

test('a batch of two calls: one server span, a span per procedure under it, a span per SQL statement under each', async () => {
  const client = app.client();
  const [page, missing] = await Promise.all([
    client.products.list.query({ limit: 2 }),
    client.products.byId.query({ id: randomUUID() }).catch((e: unknown) => e),
  ]);
  expect(page.items).toBeDefined();
  expect(missing).toBeInstanceOf(Error);
  const all = await spans(5);
  const servers = all.filter((s) => s.name === 'GET /trpc');
  expect(servers).toHaveLength(1);
  const server = servers[0] as ReadableSpan;
  expect(server.attributes['http.response.status_code']).toBe(207);

  const calls = all.filter((s) => s.name.startsWith('products.'));
  expect(calls.map((s) => s.name).sort()).toEqual(['products.byId', 'products.list']);
  for (const call of calls) {
    expect(parentOf(call)).toBe(id(server));
    const statements = all.filter((s) => parentOf(s) === id(call));
    expect(statements, call.name).toHaveLength(1);
    expect(statements[0]?.name).toBe('SELECT');
    expect(statements[0]?.attributes['db.query.text']).toMatch(/from "products"/);
  }
  expect(calls.find((s) => s.name === 'products.byId')?.attributes['keel.outcome']).toBe(
    'NOT_FOUND',
  );
  // Every span is in the one trace, and nothing is left over.
  expect(new Set(all.map((s) => s.spanContext().traceId)).size).toBe(1);
  expect(all).toHaveLength(5);
});

test("a caller's traceparent is continued, and SQL parameters never reach a span", async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const email = `traced-${randomUUID()}@example.com`;
  const res = await fetch(`${app.url}/trpc/auth.register`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // "Not sampled": a caller cannot switch tracing off for its requests.
      traceparent: `00-${traceId}-00f067aa0ba902b7-00`,
    },
    body: JSON.stringify({
      json: { email, password: 'a-long-secret-passphrase', displayName: 'Traced' },
    }),
  });
  expect(res.status).toBe(200);
  const all = await spans(3);
  expect(all.every((s) => s.spanContext().traceId === traceId)).toBe(true);
  const server = all.find((s) => s.name === 'POST /trpc');
  expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  const text = JSON.stringify(all.map((s) => s.attributes));
  expect(text).toContain('insert into');
  expect(text).not.toContain(email);
  expect(text).not.toContain('a-long-secret-passphrase');
});

test('the service with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans to that collector over OTLP/HTTP', async () => {
  const received: { path: string; body: string }[] = [];
  const collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => collector.once('listening', resolve));
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const service = await startServiceProcess(
    [tsx, join(import.meta.dirname, '..', 'src', 'main.ts')],
    {
      DATABASE_URL: testDb.urls.app,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_SERVICE_NAME: 'keel-otlp-test',
    },
  );
  try {
    const list = await fetch(
      `${service.base}/trpc/products.list?input=${encodeURIComponent(JSON.stringify({ json: { limit: 1 } }))}`,
    );
    expect(list.status).toBe(200);
    // SIGTERM: the server drains, then sends the spans it still holds.
    await service.stop();
    const traces = received
      .filter((r) => r.path === '/v1/traces')
      .map((r) => r.body)
      .join('');
    expect(traces).toContain('keel-otlp-test');
    expect(traces).toContain('products.list');
    expect(traces).toContain('GET /trpc');
  } finally {
    service.kill();
    await new Promise((resolve) => collector.close(resolve));
  }
}, 60_000);

test('span names are routes a client cannot choose', async () => {
  for (const path of [`/api/products/${randomUUID()}`, '/no-such-page-123', '/healthz'])
    await (await fetch(`${app.url}${path}`)).arrayBuffer();
  const names = (await spans(3)).filter((s) => !s.parentSpanContext).map((s) => s.name);
  expect(names.sort()).toEqual(['GET', 'GET /api', 'GET /healthz']);
});
