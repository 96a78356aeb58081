// A real streaming replica of an embedded server, built without pg_basebackup
// (the embedded binaries are only initdb, pg_ctl and postgres): PostgreSQL's
// low-level base backup API ("Making a Base Backup Using the Low Level API"
// in the PostgreSQL manual) with a physical replication slot.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, copyFile, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import {
  dataDirFor,
  type EmbeddedPostgres,
  embeddedHost,
  startEmbeddedPostgres,
  superuserName,
} from './embedded-postgres';
import { type OsUser, serverOsUser } from './os-user';

/** The role the replica streams as: LOGIN REPLICATION, nothing else. */
export const replicationRole = 'keel_replication';

/** How to start a replica of `primary`. */
export interface StreamingReplicaOptions {
  primary: EmbeddedPostgres;
  /** The primary's superuser password: the base backup and the slot need it. */
  superuserPassword: string;
  /** Where the replica's cluster lives. */
  dataDir: string;
  /** Kept across runs (reused while it still matches the primary) or deleted on stop. */
  persistent: boolean;
  /** A fixed port (a restarted replica keeps its address); by default a free one. */
  port?: number;
  /** The physical replication slot on the primary (default `keel_replica`). */
  slotName?: string;
  onLog?: (line: string) => void;
}

/**
 * Starts a hot-standby replica of `primary` that streams its WAL through a
 * physical replication slot. The first time (or when the copy no longer
 * matches the primary), it takes a base backup with the low-level API in one
 * session: `pg_backup_start`, a copy of the data directory without what the
 * manual says to leave out (postmaster.pid, pg_wal's contents, slots, temp
 * files), `pg_backup_stop`, whose label becomes `backup_label`. Then
 * `standby.signal`, `primary_conninfo` (TLS, verify-full) and
 * `primary_slot_name`, and the replica starts on a free port. It answers
 * read-only queries as soon as it is consistent; stop it before the primary.
 *
 * @example
 * ```ts
 * import { startStreamingReplica } from '@keel/platform';
 * const replica = await startStreamingReplica({
 *   primary, superuserPassword, dataDir: '/tmp/keel-replica', persistent: false,
 * });
 * console.log(replica.url('keel_app', appPassword, 'keel'));
 * await replica.stop();
 * ```
 */
export async function startStreamingReplica(
  options: StreamingReplicaOptions,
): Promise<EmbeddedPostgres> {
  const slot = options.slotName ?? 'keel_replica';
  const osUser = serverOsUser();
  const dataDir = await dataDirFor(resolve(options.dataDir), osUser);
  const primary = await connect(options.primary, options.superuserPassword);
  try {
    const password = randomBytes(18).toString('base64url');
    await ensureReplicationRole(primary, password);
    const reusable = await copyStillMatches(primary, dataDir, slot);
    if (!reusable) {
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      if (osUser) await chown(dataDir, osUser.uid, osUser.gid);
      await takeBaseBackup(primary, options.primary.dataDir, dataDir, slot, osUser);
    }
    await writeStandbySettings(dataDir, options.primary, password, slot, osUser);
  } finally {
    await primary.end();
  }
  return startEmbeddedPostgres({
    dataDir,
    superuserPassword: options.superuserPassword,
    persistent: options.persistent,
    slowQueryMs: -1,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
}

async function connect(server: EmbeddedPostgres, password: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: server.url(superuserName, password, 'postgres'),
    application_name: 'keel-replica-setup',
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function ensureReplicationRole(primary: pg.Client, password: string): Promise<void> {
  const { rows } = await primary.query('select 1 from pg_roles where rolname = $1', [
    replicationRole,
  ]);
  const verb = rows.length ? 'alter' : 'create';
  // Role DDL takes no bind parameters; the password is generated here (base64url).
  await primary.query(
    `${verb} role ${replicationRole} with login replication nosuperuser nocreatedb nocreaterole password '${password}'`,
  );
}

/**
 * A copy from an earlier run is reused when it is a standby of this very
 * cluster (same system identifier in `global/pg_control`) and its slot still
 * holds the WAL it needs; otherwise it is rebuilt.
 */
async function copyStillMatches(primary: pg.Client, dataDir: string, slot: string) {
  if (!existsSync(join(dataDir, 'standby.signal'))) return false;
  const control = await readFile(join(dataDir, 'global', 'pg_control')).catch(() => null);
  if (!control || control.length < 8) return false;
  const { rows } = await primary.query<{ id: string; usable: boolean }>(
    `select system_identifier::text as id,
            exists (select 1 from pg_replication_slots
                    where slot_name = $1 and wal_status is distinct from 'lost') as usable
       from pg_control_system()`,
    [slot],
  );
  return rows[0]?.usable === true && rows[0].id === control.readBigUInt64LE(0).toString();
}

async function takeBaseBackup(
  primary: pg.Client,
  primaryDir: string,
  dataDir: string,
  slot: string,
  osUser: OsUser | undefined,
): Promise<void> {
  await primary.query(
    `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1`,
    [slot],
  );
  // Reserved now, so the WAL from the backup's start onwards stays until the replica has it.
  await primary.query('select pg_create_physical_replication_slot($1, true)', [slot]);
  // Non-exclusive backup: start and stop must run in this same session.
  await primary.query(`select pg_backup_start('keel replica', true)`);
  try {
    await copyDataDirectory(primaryDir, dataDir, osUser);
  } finally {
    const { rows } = await primary.query<{ labelfile: string; spcmapfile: string | null }>(
      'select labelfile, spcmapfile from pg_backup_stop(false)',
    );
    const stop = rows[0];
    if (stop) {
      await writeOwned(join(dataDir, 'backup_label'), stop.labelfile, osUser);
      if (stop.spcmapfile) {
        await writeOwned(join(dataDir, 'tablespace_map'), stop.spcmapfile, osUser);
      }
    }
  }
}

// What a base backup leaves out (the manual's list, and pg_basebackup's):
// the running server's files, WAL (streamed instead), slots, temp and stats scratch.
const skippedFiles = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'standby.signal',
  'recovery.signal',
  'pg_internal.init',
]);
const emptiedDirectories = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
  'log',
]);

async function copyDataDirectory(from: string, to: string, osUser: OsUser | undefined) {
  const walk = async (relative: string) => {
    const entries = await readdir(join(from, relative)).catch(ignoreVanished([]));
    for (const name of entries) {
      const path = join(relative, name);
      if (skippedFiles.has(name) || name.startsWith('pgsql_tmp')) continue;
      const stat = await lstat(join(from, path)).catch(ignoreVanished(null));
      if (!stat) continue;
      if (stat.isDirectory()) {
        await mkdir(join(to, path), { mode: 0o700 });
        if (osUser) await chown(join(to, path), osUser.uid, osUser.gid);
        if (!(relative === '' && emptiedDirectories.has(name))) await walk(path);
      } else if (stat.isFile()) {
        // A file dropped while we copy is fine: WAL replay recreates or removes it.
        const copied = await copyFile(join(from, path), join(to, path)).then(
          () => true,
          ignoreVanished(false),
        );
        if (copied && osUser) await chown(join(to, path), osUser.uid, osUser.gid);
      }
    }
  };
  await walk('');
  const status = join(to, 'pg_wal', 'archive_status');
  await mkdir(status, { recursive: true, mode: 0o700 });
  if (osUser) await chown(status, osUser.uid, osUser.gid);
}

function ignoreVanished<T>(fallback: T) {
  return (error: NodeJS.ErrnoException): T => {
    if (error.code === 'ENOENT') return fallback;
    throw error;
  };
}

async function writeStandbySettings(
  dataDir: string,
  primary: EmbeddedPostgres,
  password: string,
  slot: string,
  osUser: OsUser | undefined,
): Promise<void> {
  const conninfo = [
    `host=${embeddedHost}`,
    `port=${primary.port}`,
    `user=${replicationRole}`,
    `password=${password}`,
    'sslmode=verify-full',
    `sslrootcert=${primary.certificatePath}`,
    // No client certificate: libpq would otherwise look in the home directory
    // of whoever started us, which the postgres OS user may not be allowed to read.
    'sslcertmode=disable',
    'application_name=keel_replica',
  ].join(' ');
  const autoConf = join(dataDir, 'postgresql.auto.conf');
  const earlier = (await readFile(autoConf, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => !/^\s*(primary_conninfo|primary_slot_name)\s*=/.test(line) && line !== '');
  const lines = [
    ...earlier,
    `primary_conninfo = '${conninfo}'`,
    `primary_slot_name = '${slot}'`,
    '',
  ];
  await writeOwned(autoConf, lines.join('\n'), osUser);
  await writeOwned(join(dataDir, 'standby.signal'), '', osUser);
}

async function writeOwned(path: string, text: string, osUser: OsUser | undefined) {
  await writeFile(path, text, { mode: 0o600 });
  if (osUser) await chown(path, osUser.uid, osUser.gid);
}
