// Watches the streaming replica in the background and decides, once per
// check, whether catalogue reads may go to it. Requests never wait for it.
import type { ReadReplica } from '@keel/api';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';

/** Where catalogue reads go now, and why. */
export type ReplicaState =
  | { serving: 'replica'; lagMs: number }
  | { serving: 'primary'; reason: 'not checked yet' | 'unreachable' | 'not a standby' | 'lagging' };

/** The replica, as the service uses it: a `ReadReplica` with its checks. */
export interface ReplicaMonitor extends ReadReplica {
  readonly state: ReplicaState;
  /** Runs one check now (one at a time: a call during a check waits for that one). */
  check(): Promise<void>;
  /** Stops the checks and waits for one in flight. The pools stay open. */
  stop(): Promise<void>;
}

export interface ReplicaMonitorOptions {
  primary: Kysely<DB>;
  replica: Kysely<DB>;
  /** REPLICA_MAX_LAG_MS: reads leave the replica when it is further behind than this. */
  maxLagMs: number;
  /** REPLICA_CHECK_INTERVAL_MS: how often both servers are asked. */
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics | undefined;
}

/** An LSN (`16/B374D848`) as a number of bytes into the WAL. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  if (!match) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/**
 * Tracks how far behind the replica is, in time, from WAL positions only.
 * Each check first notes the primary's flushed WAL position with the time it
 * was seen (only when it moved), then asks the replica how far it has
 * replayed. Positions the replica has passed are forgotten; the lag is the
 * age of the oldest position it has not reached yet, or 0 when it has
 * reached them all. An idle primary writes no WAL, so the replica catches up
 * and the lag is 0 however long nothing happens (a replay timestamp would
 * keep growing); a byte gap counts only for as long as it lasts.
 */
export function createLagTracker(limit = 600) {
  const seen: { at: number; lsn: bigint }[] = [];
  // The first position noted may be far older than when it was seen (a
  // replica restored from an old backup, or paused): until the replica has
  // reached it once, how far behind it is cannot be known, so it counts as
  // too far.
  let caughtUpOnce = false;
  return {
    primaryAt(lsn: bigint, at: number) {
      const last = seen.at(-1);
      if (last && lsn <= last.lsn) return;
      seen.push({ at, lsn });
      // A replica stuck for a long time: the oldest positions say enough.
      if (seen.length > limit) seen.splice(1, 1);
    },
    /** The lag in ms once the replica has replayed up to `lsn`. */
    replicaAt(lsn: bigint, now: number): number {
      let reached = false;
      while (seen.length > 0 && (seen[0]?.lsn ?? 0n) <= lsn) {
        seen.shift();
        reached = true;
      }
      if (reached) caughtUpOnce = true;
      if (!caughtUpOnce) return Number.POSITIVE_INFINITY;
      return seen.length === 0 ? 0 : now - (seen[0]?.at ?? now);
    },
  };
}

/**
 * Starts the background checks (an unref'd interval, the first one at once)
 * and returns the `ReadReplica` procedures use. Until a check has passed,
 * reads go to the primary. Reads leave the replica when it cannot be reached,
 * is no longer a standby (promoted), or lags by more than `maxLagMs`; they
 * come back once it answers with a lag of at most half that, so a replica
 * hovering at the limit does not flap. Each change is logged once and
 * counted (`keel_replica_transitions_total`).
 *
 * @example
 * ```ts
 * const monitor = startReplicaMonitor({ primary, replica, maxLagMs: 5000, intervalMs: 1000, logger });
 * monitor.current(); // the replica's pool, or undefined
 * await monitor.stop();
 * ```
 */
export function startReplicaMonitor(options: ReplicaMonitorOptions): ReplicaMonitor {
  const { primary, replica, maxLagMs, logger, metrics } = options;
  const lag = createLagTracker();
  let state: ReplicaState = { serving: 'primary', reason: 'not checked yet' };
  let running: Promise<void> | undefined;
  let stopped = false;

  const moveTo = (next: ReplicaState, cause?: unknown) => {
    const before = state.serving;
    state = next;
    if (next.serving === 'replica') metrics?.replicaLag(next.lagMs);
    if (before === next.serving) return;
    metrics?.replicaTransition(next.serving);
    if (next.serving === 'replica') {
      logger.info({ lagMs: next.lagMs }, 'catalogue reads go to the replica');
    } else {
      const detail = cause instanceof Error ? cause.message : undefined;
      logger.warn(
        { reason: next.reason, ...(detail ? { cause: detail } : {}) },
        'catalogue reads go to the primary: the replica is not fit to serve',
      );
    }
  };

  const checkOnce = async () => {
    try {
      const { rows } = await sql<{ lsn: string }>`
        select pg_current_wal_flush_lsn()::text as lsn`.execute(primary);
      lag.primaryAt(parseLsn(rows[0]?.lsn ?? ''), Date.now());
    } catch {
      // Without the primary's position there is nothing to compare; the
      // primary's own outage is logged by the requests that need it.
      return;
    }
    let status: { standby: boolean; lsn: string | null } | undefined;
    try {
      const { rows } = await withTimeout(
        sql<{ standby: boolean; lsn: string | null }>`
          select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as lsn`.execute(
          replica,
        ),
        maxLagMs,
      );
      status = rows[0];
    } catch (error) {
      moveTo({ serving: 'primary', reason: 'unreachable' }, error);
      return;
    }
    if (!status?.standby || status.lsn === null) {
      moveTo({ serving: 'primary', reason: 'not a standby' });
      return;
    }
    const lagMs = lag.replicaAt(parseLsn(status.lsn), Date.now());
    metrics?.replicaLag(lagMs);
    const limit = state.serving === 'replica' ? maxLagMs : maxLagMs / 2;
    if (lagMs > limit) moveTo({ serving: 'primary', reason: 'lagging' });
    else moveTo({ serving: 'replica', lagMs });
  };

  const check = () => {
    running ??= checkOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void check();
  }, options.intervalMs);
  timer.unref();
  void check();

  return {
    get state() {
      return state;
    },
    current: () => (state.serving === 'replica' ? replica : undefined),
    failed(error) {
      if (state.serving === 'replica') moveTo({ serving: 'primary', reason: 'unreachable' }, error);
    },
    check,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
