import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDb } from '@keel/db';
import { createTestDatabase } from '@keel/platform/testing';
import pino from 'pino';
import { afterAll, expect, test } from 'vitest';
import { createRequestListener } from '../src/app';
import { ConfigError, loadConfig } from '../src/config';

const testDb = await createTestDatabase();
const logger = pino({ level: 'silent' });
const server = createServer(createRequestListener({ db: testDb.db, logger })).listen(
  0,
  '127.0.0.1',
);
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await testDb.destroy();
});

test('GET /healthz answers while the process lives', async () => {
  const res = await fetch(`${base}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
  expect(res.headers.get('x-powered-by')).toBeNull();
});

test('GET /readyz is 200 when the database answers', async () => {
  const res = await fetch(`${base}/readyz`);
  expect(res.status).toBe(200);
});

test('GET /readyz is 503 when the database cannot be reached', async () => {
  const unreachable = createDb({
    connectionString: 'postgres://keel_app:x@127.0.0.1:1/keel',
    connectionTimeoutMs: 500,
  });
  const other = createServer(
    createRequestListener({ db: unreachable, logger, readinessTimeoutMs: 300 }),
  ).listen(0, '127.0.0.1');
  await new Promise((resolve) => other.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/readyz`);
    expect(res.status).toBe(503);
  } finally {
    await new Promise((resolve) => other.close(resolve));
    await unreachable.destroy();
  }
});

test('a missing or invalid variable stops start-up with one message naming each problem', () => {
  let error: unknown;
  try {
    loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems.join('\n');
  expect(problems).toMatch(/PORT/);
  expect(problems).toMatch(/DATABASE_URL/);
  expect(problems).toMatch(/LOG_LEVEL/);
});

test('defaults: port 3000 on 127.0.0.1', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1:5432/keel' });
  expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1' });
});
