import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applySchemaPrivileges,
  createPool,
  ensureDatabase,
  ensureRoles,
  type RolePasswords,
  roleNames,
} from '@keel/db';
import { Kysely, PostgresDialect } from 'kysely';
import {
  dataDirFor,
  type EmbeddedPostgres,
  embeddedHost,
  embeddedUrl,
  findFreePort,
  type StopPath,
  startEmbeddedPostgres,
  superuserName,
} from './embedded-postgres';
import { serverOsUser } from './os-user';
import { startStreamingReplica } from './streaming-replica';

/** Where the service and the tooling find the database. */
export interface DatabaseTarget {
  /** The service's connection, as `keel_app`. */
  appUrl: string;
  /** Migrations, codegen and seeding connect as `keel_owner` with this. */
  ownerUrl: string;
  /** Reporting connection, as `keel_readonly` (embedded only). */
  readonlyUrl?: string;
  /** Set when this call started the embedded server. */
  embedded?: EmbeddedPostgres;
  /** The streaming replica's service connection (as `keel_app`), when one was asked for. */
  replicaAppUrl?: string;
  /** The streaming replica this call started (`replica: true`). */
  replica?: EmbeddedPostgres;
  /**
   * Stops the embedded server if this call started it (saying how), its
   * replica first; otherwise does nothing.
   */
  release(): Promise<StopPath | 'nothing to stop'>;
}

/** Settings for `openLocalDatabase`; `cli/env.ts` fills them from the environment. */
export interface LocalDatabaseOptions {
  /** An external server's service URL; when set, nothing embedded starts. */
  databaseUrl?: string;
  /** An external server's owner URL; falls back to `databaseUrl`. */
  databaseOwnerUrl?: string;
  dataDir: string;
  /** Tried first; a free port is used when it is taken. */
  preferredPort: number;
  superuserPassword: string;
  passwords: RolePasswords;
  database: string;
  slowQueryMs: number;
  /**
   * Also start a streaming replica of the embedded server, in
   * `<dataDir>-replica` (`KEEL_DEV_REPLICA=1`; own mode only).
   */
  replica?: boolean;
  /**
   * `attach`: reuse a server another process (say `pnpm dev`) already runs on
   * this data directory. `own`: stop such a leftover and start our own.
   */
  mode: 'attach' | 'own';
  onLog?: (line: string) => void;
}

/**
 * Opens the development database: the external server named by
 * `DATABASE_URL`, or the persistent embedded one in `.data/postgres`
 * (started, given its roles and database, if it is not running).
 *
 * @example
 * ```ts
 * import { openLocalDatabase } from '@keel/db';
 * const target = await openLocalDatabase({ ...options, mode: 'attach' });
 * console.log(target.appUrl);
 * await target.release();
 * ```
 */
export async function openLocalDatabase(options: LocalDatabaseOptions): Promise<DatabaseTarget> {
  if (options.databaseUrl && options.replica && options.mode === 'own') {
    throw new Error(
      'KEEL_DEV_REPLICA=1 starts a replica of the embedded database, but DATABASE_URL names an external one: set DATABASE_REPLICA_URL to its replica instead',
    );
  }
  if (options.databaseUrl) {
    return {
      appUrl: options.databaseUrl,
      ownerUrl: options.databaseOwnerUrl ?? options.databaseUrl,
      release: async () => 'nothing to stop' as const,
    };
  }
  if (options.mode === 'attach') {
    const attached = await attachToRunning(options);
    if (attached) return attached;
  }
  const port = (await isPortFree(options.preferredPort))
    ? options.preferredPort
    : await findFreePort();
  const server = await startEmbeddedPostgres({
    dataDir: options.dataDir,
    superuserPassword: options.superuserPassword,
    persistent: true,
    port,
    slowQueryMs: options.slowQueryMs,
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
  try {
    await provisionDatabase(
      server.url(superuserName, options.superuserPassword, 'postgres'),
      options,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  const urls = urlsFor(server.port, server.certificatePath, options);
  if (!(options.replica && options.mode === 'own')) {
    return { ...urls, embedded: server, release: () => server.stop() };
  }
  let replica: EmbeddedPostgres;
  try {
    replica = await startStreamingReplica({
      primary: server,
      superuserPassword: options.superuserPassword,
      dataDir: `${options.dataDir}-replica`,
      persistent: true,
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    ...urls,
    embedded: server,
    replica,
    replicaAppUrl: replica.url(roleNames.app, options.passwords.app, options.database),
    release: async () => {
      // The replica first: the primary's shutdown then has no standby to wait for.
      await replica.stop();
      return server.stop();
    },
  };
}

/** Roles, the database, and its default privileges; idempotent. */
export async function provisionDatabase(
  superuserUrl: string,
  options: Pick<LocalDatabaseOptions, 'passwords' | 'database'>,
  template?: string,
): Promise<void> {
  const admin = adminDb(superuserUrl);
  try {
    await ensureRoles(admin, options.passwords);
    await ensureDatabase(admin, options.database, template);
  } finally {
    await admin.destroy();
  }
  const url = new URL(superuserUrl);
  url.pathname = `/${options.database}`;
  const inDatabase = adminDb(url.toString());
  try {
    await applySchemaPrivileges(inDatabase);
  } finally {
    await inDatabase.destroy();
  }
}

/** A one-connection Kysely for administrative statements. */
export function adminDb(url: string): Kysely<unknown> {
  // Administrative statements (DDL, migrations, bulk seeds) may run long: no
  // statement or lock timeouts, one connection.
  const pool = createPool({
    connectionString: url,
    maxConnections: 1,
    connectionTimeoutMs: 10_000,
    sendStartupParameters: false,
    applicationName: 'keel-admin',
  });
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
}

async function attachToRunning(options: LocalDatabaseOptions): Promise<DatabaseTarget | undefined> {
  const dataDir = await dataDirFor(options.dataDir, serverOsUser());
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return {
    ...urlsFor(port, join(dataDir, 'server.crt'), options),
    release: async () => 'nothing to stop' as const,
  };
}

function urlsFor(port: number, certificatePath: string, options: LocalDatabaseOptions) {
  const url = (role: string, password: string) =>
    embeddedUrl({ port, certificatePath }, role, password, options.database);
  return {
    appUrl: url(roleNames.app, options.passwords.app),
    ownerUrl: url(roleNames.owner, options.passwords.owner),
    readonlyUrl: url(roleNames.readonly, options.passwords.readonly),
  };
}

async function isPortFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, embeddedHost, () => server.close(() => resolve(true)));
  });
}
