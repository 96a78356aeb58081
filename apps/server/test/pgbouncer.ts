// PgBouncer for tests: found on the machine (or installed from Debian's
// packages when this process is root), started in transaction pooling mode
// in front of a test database, with TLS on both sides and SCRAM auth.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createPool, roleNames } from '@keel/db';
import { findFreePort, localhostCertificate } from '@keel/platform';
import type { TestPostgres } from '@keel/platform/testing';
import { ensureDebianPackage, terminateTool } from './debian-package';

const host = '127.0.0.1';

/** How to install PgBouncer by hand, for error messages. */
export const installHint =
  'install it with `sudo apt-get install -y pgbouncer` (Debian/Ubuntu), `brew install pgbouncer` (macOS) ' +
  'or your distribution’s package, or set KEEL_SKIP_PGBOUNCER=1 to skip the PgBouncer suite';

/**
 * The `pgbouncer` executable; when it is missing and this process is root
 * (CI), installs Debian's package first (see `ensureDebianPackage`).
 */
export function ensurePgBouncer(log: (line: string) => void = () => {}): Promise<string> {
  return ensureDebianPackage('pgbouncer', installHint, log);
}

/** `PgBouncer 1.18.0` (the first line of `pgbouncer --version`). */
export function pgBouncerVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return (result.stdout || result.stderr).split('\n')[0]?.trim() ?? 'unknown';
}

/** What `startPgBouncer` needs to know about the database behind it. */
export interface PgBouncerTarget {
  /** The database name (the same name is used on PgBouncer's side). */
  name: string;
  server: Pick<TestPostgres, 'host' | 'port' | 'certificatePath' | 'passwords'>;
}

export interface PgBouncerOptions {
  /** Server connections per (database, user) pool. Default 5. */
  poolSize?: number;
  /** Receives PgBouncer's log lines. */
  onLog?: (line: string) => void;
}

/** A running PgBouncer. */
export interface RunningPgBouncer {
  /** keel_app through PgBouncer: `sslmode=verify-full` against PgBouncer's own certificate. */
  url: string;
  /** PgBouncer's admin console (database `pgbouncer`) as a stats user: `SHOW POOLS`, … */
  consoleUrl: string;
  /** `default_pool_size`: at most this many server connections per database and user. */
  poolSize: number;
  port: number;
  version: string;
  /** Terminates PgBouncer and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

const statsUser = 'keel_pgbouncer_stats';

/**
 * Starts PgBouncer (installing it first if needed, see `ensurePgBouncer`) in
 * transaction pooling mode in front of `target`: TLS with certificate and
 * host name checks to the server (which refuses plain TCP), TLS offered and
 * required for clients, SCRAM on both legs. As root, PgBouncer runs as the
 * `postgres` OS user, since it refuses to run as root.
 *
 * @example
 * ```ts
 * const testDb = await createTestDatabase();
 * const bouncer = await startPgBouncer(testDb);
 * const db = createDb({ connectionString: bouncer.url, sendStartupParameters: false });
 * await db.destroy();
 * await bouncer.stop();
 * ```
 */
export async function startPgBouncer(
  target: PgBouncerTarget,
  options: PgBouncerOptions = {},
): Promise<RunningPgBouncer> {
  const log = options.onLog ?? (() => {});
  const binary = await ensurePgBouncer(log);
  const version = pgBouncerVersion(binary);
  const osUser = userInfo().uid === 0 ? postgresOsUser() : undefined;
  const poolSize = options.poolSize ?? 5;
  const dir = await mkdtemp(join(tmpdir(), 'keel-pgbouncer-'));
  const appPassword = target.server.passwords.app;
  const statsPassword = randomBytes(12).toString('hex');

  const files = {
    serverCa: join(dir, 'server-ca.crt'),
    clientCert: join(dir, 'pgbouncer.crt'),
    clientKey: join(dir, 'pgbouncer.key'),
    userlist: join(dir, 'userlist.txt'),
    ini: join(dir, 'pgbouncer.ini'),
  };
  const pems = await localhostCertificate(24 * 3600 * 1000);
  await writeFile(files.serverCa, await readFile(target.server.certificatePath));
  await writeFile(files.clientCert, pems.cert, { mode: 0o644 });
  await writeFile(files.clientKey, pems.private, { mode: 0o600 });
  // Plain-text passwords: PgBouncer derives SCRAM from them for both legs.
  await writeFile(
    files.userlist,
    `${quoted(roleNames.app)} ${quoted(appPassword)}\n${quoted(statsUser)} ${quoted(statsPassword)}\n`,
    { mode: 0o600 },
  );

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await findFreePort();
    await writeFile(files.ini, pgBouncerIni(target, port, poolSize, files), { mode: 0o600 });
    if (osUser) {
      // mkdtemp makes the directory 0700: hand it and its files to postgres.
      for (const path of [dir, ...Object.values(files)]) await chown(path, osUser.uid, osUser.gid);
    }
    await chmod(files.clientKey, 0o600);
    const child = spawn(binary, [files.ini], {
      ...osUser,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const params = (user: string, password: string, database: string) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}?${new URLSearchParams({ sslmode: 'verify-full', sslrootcert: files.clientCert })}`;
    const url = params(roleNames.app, appPassword, target.name);
    try {
      await waitUntilReady(child, url, log);
    } catch (error) {
      lastError = error;
      await terminateTool(child);
      continue;
    }
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let stopping: Promise<void> | undefined;
    return {
      url,
      consoleUrl: params(statsUser, statsPassword, 'pgbouncer'),
      poolSize,
      port,
      version,
      stop() {
        stopping ??= (async () => {
          process.off('exit', killOnExit);
          await terminateTool(child);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

function pgBouncerIni(
  target: PgBouncerTarget,
  port: number,
  poolSize: number,
  files: { serverCa: string; clientCert: string; clientKey: string; userlist: string },
): string {
  const { server } = target;
  return `; Written by apps/server/test/pgbouncer.ts
[databases]
${target.name} = host=${server.host} port=${server.port} dbname=${target.name}

[pgbouncer]
listen_addr = ${host}
listen_port = ${port}
; no Unix socket: nothing shared in /tmp between parallel runs
unix_socket_dir =

pool_mode = transaction
default_pool_size = ${poolSize}
min_pool_size = 0
reserve_pool_size = 0
max_db_connections = ${poolSize}
max_client_conn = 200
; fail fast in tests instead of PgBouncer's 15 s back-off
server_login_retry = 1
query_wait_timeout = 20

auth_type = scram-sha-256
auth_file = ${files.userlist}
stats_users = ${statsUser}

; the embedded server refuses non-TLS connections: verify its certificate and name
server_tls_sslmode = verify-full
server_tls_ca_file = ${files.serverCa}

; clients must use TLS too
client_tls_sslmode = require
client_tls_cert_file = ${files.clientCert}
client_tls_key_file = ${files.clientKey}

; drivers (JDBC, psql -c options) send these; PgBouncer refuses other unknown parameters
ignore_startup_parameters = extra_float_digits,options
`;
}

function quoted(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function postgresOsUser(): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      'PgBouncer refuses to run as root and there is no `postgres` OS user to run it as ' +
        '(the embedded PostgreSQL creates one when started as root)',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Resolves once `url` answers `select 1` through PgBouncer; rejects if PgBouncer exits. */
async function waitUntilReady(
  child: ChildProcess,
  url: string,
  log: (line: string) => void,
): Promise<void> {
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    log(chunk.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(
        new Error(`pgbouncer exited during start (code ${code}, signal ${signal}):\n${output}`),
      ),
    );
  });
  exited.catch(() => {});
  const deadline = Date.now() + 15_000;
  const ready = (async () => {
    for (;;) {
      const pool = createPool({
        connectionString: url,
        sendStartupParameters: false,
        maxConnections: 1,
        connectionTimeoutMs: 2_000,
      });
      try {
        await pool.query('select 1');
        await pool.end();
        return;
      } catch (error) {
        await pool.end().catch(() => {});
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (Date.now() > deadline) {
          throw new Error(
            `pgbouncer did not accept connections within 15 s: ${(error as Error).message}\n${output}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  await Promise.race([ready, exited]);
}
