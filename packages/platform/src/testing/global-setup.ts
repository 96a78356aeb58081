// Vitest global setup: one embedded PostgreSQL per test run, with a template
// database migrated once; every test file clones its own database from it.
import type { TestProject } from 'vitest/node';
import { startScratchDatabase } from '../embedded/scratch-database';
import type { TestPostgres } from './test-postgres';

export const templateDatabase = 'keel_template';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratch = await startScratchDatabase({ database: templateDatabase });
  const stopOnSignal = () => void scratch.stop();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const provided: TestPostgres = {
    host: scratch.server.host,
    port: scratch.server.port,
    certificatePath: scratch.server.certificatePath,
    dataDir: scratch.server.dataDir,
    superuserPassword: scratch.superuserPassword,
    passwords: scratch.passwords,
    templateDatabase,
  };
  project.provide('keelPostgres', provided);
  return async () => {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await scratch.stop();
  };
}
