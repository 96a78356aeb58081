// Every way the service can fail to reach its database, TLS included, is
// SERVICE_UNAVAILABLE (503) from health.check, never a 500: the operator
// reads the real reason in the log, the client learns to retry later.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keelErrorCode } from '@keel/client';
import { localhostCertificate } from '@keel/platform';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { appDb, startApp } from './harness';

const testDb = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'keel-unreachable-'));
const otherCa = join(dir, 'other-ca.crt');
await writeFile(otherCa, (await localhostCertificate(3_600_000)).cert);
afterAll(async () => {
  await testDb.destroy();
  await rm(dir, { recursive: true, force: true });
});

function variant(change: (url: URL) => void): string {
  const url = new URL(testDb.urls.app);
  change(url);
  return url.toString();
}

const broken: [string, string][] = [
  [
    'sslmode=disable against a server that only takes TLS',
    variant((u) => u.searchParams.set('sslmode', 'disable')),
  ],
  [
    'a server certificate another CA signed',
    variant((u) => u.searchParams.set('sslrootcert', otherCa)),
  ],
  [
    'a wrong password',
    variant((u) => {
      u.password = 'not-the-password';
    }),
  ],
  [
    'a database that does not exist',
    variant((u) => {
      u.pathname = '/no_such_database';
    }),
  ],
];

describe('health.check when the database cannot be reached', () => {
  test('the working URL answers, so each failure below is the change alone', async () => {
    const db = appDb(testDb.urls.app, 1);
    const app = await startApp(db);
    try {
      expect(await app.client().health.check.query()).toEqual({ database: 'ok' });
    } finally {
      await app.close();
      await db.destroy();
    }
  });

  test.each(broken)('%s: SERVICE_UNAVAILABLE, HTTP 503', async (_name, url) => {
    const db = appDb(url, 1);
    const app = await startApp(db);
    try {
      const error = await app
        .client()
        .health.check.query()
        .catch((e: unknown) => e);
      expect(keelErrorCode(error)).toBe('SERVICE_UNAVAILABLE');
      const raw = await fetch(`${app.url}/trpc/health.check`);
      expect(raw.status).toBe(503);
      expect(await raw.text()).toContain('the database is unavailable; retry shortly');
    } finally {
      await app.close();
      await db.destroy();
    }
  });
});
