import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roleNames } from '@keel/db';
import pg from 'pg';
import { type EmbeddedPostgres, superuserName } from '../embedded/embedded-postgres';
import { type ScratchDatabase, startScratchDatabase } from '../embedded/scratch-database';
import { startStreamingReplica } from '../embedded/streaming-replica';

/** A migrated primary of a test file's own and a real streaming replica of it. */
export interface ReplicatedDatabase {
  primary: ScratchDatabase;
  /** The replica's service connection, as `keel_app` (read-only: it is a hot standby). */
  replicaAppUrl: string;
  /** Runs `text` as the superuser on the replica (`select pg_wal_replay_pause()`, …). */
  onReplica(text: string): Promise<pg.QueryResult>;
  /** Resolves once the replica has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Stops the replica (fast shutdown); `startReplica` brings it back on the same port. */
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Stops both, replica first, and deletes their data. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway primary with the migrated schema (not the shared test
 * server: a replica copies a whole cluster and its slot holds WAL) and a
 * streaming replica of it, built as `KEEL_DEV_REPLICA=1 pnpm dev` builds its own.
 *
 * @example
 * ```ts
 * import { startReplicatedDatabase } from '@keel/platform/testing';
 * const replicated = await startReplicatedDatabase();
 * await replicated.onReplica('select pg_wal_replay_pause()');
 * await replicated.stop();
 * ```
 */
export async function startReplicatedDatabase(): Promise<ReplicatedDatabase> {
  const primary = await startScratchDatabase();
  const replicaDir = await mkdtemp(join(tmpdir(), 'keel-replica-'));
  const start = (port?: number) =>
    startStreamingReplica({
      primary: primary.server,
      superuserPassword: primary.superuserPassword,
      dataDir: replicaDir,
      // Kept across stopReplica/startReplica; stop() deletes it.
      persistent: true,
      ...(port === undefined ? {} : { port }),
    });
  let replica: EmbeddedPostgres;
  try {
    replica = await start();
  } catch (error) {
    await primary.stop();
    throw error;
  }
  const port = replica.port;
  const superuserQuery = async (url: string, text: string) => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };
  const replicaSuperuser = () => replica.url(superuserName, primary.superuserPassword, 'postgres');
  return {
    primary,
    replicaAppUrl: replica.url(roleNames.app, primary.passwords.app, primary.database),
    onReplica: (text) => superuserQuery(replicaSuperuser(), text),
    async caughtUp(timeoutMs = 10_000) {
      const { rows } = await superuserQuery(
        primary.server.url(superuserName, primary.superuserPassword, 'postgres'),
        // The insert position: the throwaway primary commits without waiting
        // for the flush (synchronous_commit=off), so a commit may not be flushed yet.
        'select pg_current_wal_insert_lsn()::text as lsn',
      );
      const target = rows[0]?.lsn as string;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows: replayed } = await superuserQuery(
          replicaSuperuser(),
          `select pg_last_wal_replay_lsn() >= '${target}'::pg_lsn as done`,
        );
        if (replayed[0]?.done === true) return;
        if (Date.now() > deadline) throw new Error(`the replica did not reach ${target}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stopReplica() {
      await replica.stop();
    },
    async startReplica() {
      replica = await start(port);
    },
    async stop() {
      await replica.stop();
      await primary.stop();
      await rm(replica.dataDir, { recursive: true, force: true });
      await rm(replicaDir, { recursive: true, force: true });
    },
  };
}
