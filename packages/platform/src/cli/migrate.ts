// `pnpm db:migrate [latest|up|down|reset|list]`, as keel_owner.
import '@keel/runtime/require-node';
import { createMigrator, type MigrationCommand, MigrationFailedError, migrate } from '@keel/db';
import { adminDb, openLocalDatabase } from '../embedded/local-database';
import { localDatabaseOptionsFromEnv } from './env';

const commands = ['latest', 'up', 'down', 'reset', 'list'] as const;
type Command = (typeof commands)[number];

async function main(): Promise<number> {
  const command = (process.argv.slice(2).find((a) => a !== '--') ?? 'latest') as Command;
  if (!commands.includes(command)) {
    console.error(`unknown command "${command}"; use one of: ${commands.join(', ')}`);
    return 2;
  }
  const target = await openLocalDatabase(localDatabaseOptionsFromEnv('attach'));
  const db = adminDb(target.ownerUrl);
  try {
    if (command === 'list') {
      for (const m of await createMigrator(db).getMigrations()) {
        console.log(
          `${m.executedAt ? `applied ${m.executedAt.toISOString()}` : 'pending'.padEnd(32)}  ${m.name}`,
        );
      }
      return 0;
    }
    const results = await migrate(db, command as MigrationCommand);
    if (results.length === 0) console.log('nothing to do: the schema is already there');
    for (const r of results)
      console.log(`${r.direction === 'Up' ? 'applied' : 'reverted'} ${r.migrationName}`);
    return 0;
  } catch (error) {
    if (error instanceof MigrationFailedError) {
      console.error(error.message);
      for (const r of error.results ?? [])
        console.error(`  ${r.status.padEnd(11)} ${r.migrationName}`);
      console.error('The run was rolled back: the schema is as it was before.');
      return 1;
    }
    throw error;
  } finally {
    await db.destroy();
    await target.release();
  }
}

process.exitCode = await main();
