import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const { server } = testDb;

function client(ssl: pg.ClientConfig['ssl']): pg.Client {
  const c = new pg.Client({
    host: server.host,
    port: server.port,
    user: 'keel_app',
    password: server.passwords.app,
    database: testDb.name,
    ssl,
    connectionTimeoutMillis: 5_000,
  });
  c.on('error', () => {});
  return c;
}

test('a TCP connection without TLS is refused by pg_hba.conf', async () => {
  const plain = client(false);
  await expect(plain.connect()).rejects.toThrow(/no encryption|pg_hba\.conf rejects/);
  await plain.end().catch(() => {});
});

test('a TLS connection verified against the generated certificate works', async () => {
  const secure = client({
    ca: readFileSync(server.certificatePath, 'utf8'),
    servername: 'localhost',
  });
  await secure.connect();
  const { rows } = await secure.query<{ ssl: boolean; version: string }>(
    'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()',
  );
  await secure.end();
  expect(rows[0]?.ssl).toBe(true);
  expect(rows[0]?.version).toMatch(/^TLSv1\.[23]$/);
});

test('a client that verifies the certificate rejects a server it does not trust', async () => {
  const strict = client({ rejectUnauthorized: true });
  await expect(strict.connect()).rejects.toThrow(/self[- ]signed|certificate/i);
  await strict.end().catch(() => {});
});
