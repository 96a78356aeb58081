import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, startScratchDatabase } from '@keel/platform';
import { afterAll, expect, test } from 'vitest';
import { appDb, startApp } from './harness';

// A server of this file's own: stopping the shared test server would break
// the other test files running in parallel.
const dataDir = join(await mkdtemp(join(tmpdir(), 'keel-readiness-')), 'pg');
const scratch = await startScratchDatabase({ dataDir, persistent: true });
const db = appDb(scratch.appUrl);
const app = await startApp(db, { readinessTimeoutMs: 500 });
let restarted: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;

afterAll(async () => {
  await app.close();
  await db.destroy();
  await restarted?.stop();
  await scratch.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('/readyz is 503 while the database is stopped and 200 again after it restarts', async () => {
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

  await scratch.stop();
  const down = await fetch(`${app.url}/readyz`);
  expect(down.status).toBe(503);
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

  restarted = await startEmbeddedPostgres({
    dataDir: scratch.server.dataDir,
    port: scratch.server.port,
    superuserPassword: scratch.superuserPassword,
    persistent: true,
  });
  await expect
    .poll(async () => (await fetch(`${app.url}/readyz`)).status, { timeout: 5_000 })
    .toBe(200);
});
