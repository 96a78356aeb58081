// Vitest global setup: one embedded PostgreSQL per test run, with a template
// database migrated once; every test file clones its own database from it.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, superuserName } from '../embedded/embedded-postgres';
import { adminDb, provisionDatabase } from '../embedded/local-database';
import { migrate } from '../migrate';
import { roleNames } from '../roles';
import type { TestPostgres } from './test-postgres';

export const templateDatabase = 'keel_template';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const secret = () => randomBytes(12).toString('hex');
  const superuserPassword = secret();
  const passwords = { owner: secret(), app: secret(), readonly: secret() };
  const server = await startEmbeddedPostgres({
    dataDir: await mkdtemp(join(tmpdir(), 'keel-test-')),
    superuserPassword,
    persistent: false,
    slowQueryMs: -1,
  });
  const stopOnSignal = () => void server.stop();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await provisionDatabase(server.url(superuserName, superuserPassword, 'postgres'), {
      passwords,
      database: templateDatabase,
    });
    const owner = adminDb(server.url(roleNames.owner, passwords.owner, templateDatabase));
    try {
      await migrate(owner, 'latest');
    } finally {
      await owner.destroy();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  const provided: TestPostgres = {
    host: server.host,
    port: server.port,
    certificatePath: server.certificatePath,
    dataDir: server.dataDir,
    superuserPassword,
    passwords,
    templateDatabase,
  };
  project.provide('keelPostgres', provided);
  return async () => {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await server.stop();
  };
}
