import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsFolder } from './migrate';

/** The committed checksum manifest: migration file name → sha256 of its content. */
export const manifestFile = join(import.meta.dirname, '..', 'migrations.lock.json');

/** Migration files on disk (`NNNN_name.ts`), in order. */
export function migrationFiles(): string[] {
  return readdirSync(migrationsFolder)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f))
    .sort();
}

/** sha256 of each migration file on disk. */
export function currentChecksums(): Record<string, string> {
  return Object.fromEntries(
    migrationFiles().map((file) => [
      file,
      createHash('sha256')
        .update(readFileSync(join(migrationsFolder, file)))
        .digest('hex'),
    ]),
  );
}

/** The committed manifest. */
export function lockedChecksums(): Record<string, string> {
  return JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>;
}

/** What differs between the manifest and the files: applied migrations must never change. */
export function manifestProblems(
  locked: Record<string, string>,
  current: Record<string, string>,
): string[] {
  const problems: string[] = [];
  for (const [file, sum] of Object.entries(locked)) {
    if (!(file in current)) problems.push(`${file} is in migrations.lock.json but was deleted`);
    else if (current[file] !== sum)
      problems.push(`${file} changed after it was locked; write a new migration instead`);
  }
  for (const file of Object.keys(current)) {
    if (!(file in locked))
      problems.push(`${file} is not locked yet; run pnpm --filter @keel/db db:lock-migrations`);
  }
  return problems;
}
