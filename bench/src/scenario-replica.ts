import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DB } from '@keel/db';
import { type EmbeddedPostgres, findFreePort, startStreamingReplica } from '@keel/platform';
import { type Kysely, sql } from 'kysely';
import type { BenchDatabase } from './bench-database';
import { type Round, runLoad, summarize } from './load';
import { type RunningServer, startServer } from './processes';
import { connections, cyclingThrough, keelScript, keelServerEnv } from './scenario-list';

/** Order writers beside the 32 catalogue readers: the "mixed" of the mixed load. */
export const writers = 4;
const slotName = 'keel_bench_replica';

interface Setup {
  reads: ReturnType<typeof summarize>;
  readP99: number;
  writes: ReturnType<typeof summarize>;
  /** CPU seconds of the primary's (and the replica's) PostgreSQL processes per 1000 reads. */
  primaryCpuPerThousandReads: number;
  replicaCpuPerThousandReads: number;
  rounds: { reads: Round; writes: Round; primaryCpu: number; replicaCpu: number }[];
}

export interface ReplicaResult {
  primaryOnly: Setup;
  withReplica: Setup;
  /** reads/s with the replica / reads/s on the primary alone (medians). */
  ratio: number;
  /** Catalogue reads left the replica during the rounds (lag or an error): should be 0. */
  fallbacks: number;
  baseBackupSeconds: number;
}

/**
 * Scenario I: catalogue reads (scenario A's products.list, anonymous, 32
 * connections) while 4 customers place orders, against a Keel server on the
 * primary alone and one with DATABASE_REPLICA_URL set to a real streaming
 * replica of the bench database (base backup taken here, thrown away after).
 * Rounds interleave the two. Besides reads/s it reports the CPU time of
 * each PostgreSQL server per 1000 reads, which is what a replica takes off
 * the primary; on one machine both servers share the same cores.
 */
export async function replicaReads(
  bench: BenchDatabase,
  owner: Kysely<DB>,
  superuser: Kysely<DB>,
  cursors: string[],
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
): Promise<ReplicaResult> {
  const backupStarted = performance.now();
  const replicaDir = join(bench.server.dataDir, '..', 'replica');
  const replica = await startStreamingReplica({
    primary: bench.server,
    superuserPassword: bench.passwords.superuser,
    dataDir: replicaDir,
    persistent: false,
    slotName,
  });
  const baseBackupSeconds = (performance.now() - backupStarted) / 1000;
  log(`  replica streaming after a ${baseBackupSeconds.toFixed(1)} s base backup`);
  const run = randomUUID().slice(0, 8).toUpperCase();
  const products = await owner
    .insertInto('products')
    .values(
      Array.from({ length: 100 }, (_, i) => ({
        sku: `REPLICA-${run}-${i}`,
        name: `Replica bench product ${i}`,
        price_cents: 999,
        stock_quantity: 10_000_000,
      })),
    )
    .returning('id')
    .execute();
  const servers: RunningServer[] = [];
  const userIds: string[] = [];
  try {
    const metricsPort = await findFreePort();
    servers.push(await startServer('primary', keelScript, keelServerEnv(bench), '/readyz'));
    servers.push(
      await startServer(
        'primary+replica',
        keelScript,
        {
          ...keelServerEnv(bench),
          DATABASE_REPLICA_URL: replica.url('keel_app', bench.passwords.app, 'keel'),
          METRICS_PORT: String(metricsPort),
        },
        '/readyz',
      ),
    );
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text().catch(() => '');
    const metric = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    const deadline = Date.now() + 20_000;
    while (metric(await scrape(), /^keel_replica_serving (\S+)$/m) !== 1) {
      if (Date.now() > deadline) throw new Error('the replica never became fit to serve');
      await new Promise((r) => setTimeout(r, 100));
    }
    const tokens = await registerWriters(servers[0]?.url ?? '', run, userIds);
    let n = 0;
    const placeOrder = () => {
      n += 1;
      return {
        path: '/trpc/orders.place?batch=1',
        body: JSON.stringify({
          0: {
            json: {
              idempotencyKey: randomUUID(),
              items: [{ productId: products[n % products.length]?.id ?? '', quantity: 1 }],
            },
          },
        }),
        headers: { authorization: `Bearer ${tokens[n % tokens.length]}` },
      };
    };
    const reads = cyclingThrough(cursors);
    const mixed = (url: string, seconds: number) =>
      Promise.all([
        runLoad({ url, connections, seconds, next: reads }),
        runLoad({ url, connections: writers, seconds, method: 'POST', next: placeOrder }),
      ]);
    const fallbacksBefore = metric(
      await scrape(),
      /^keel_replica_transitions_total\{to="primary"\} (\S+)$/m,
    );
    for (const server of servers) await mixed(server.url, options.warmupSeconds);

    const measured: Record<string, Setup['rounds']> = { primary: [], 'primary+replica': [] };
    for (let round = 1; round <= options.rounds; round += 1) {
      for (const server of servers) {
        const cpuBefore = [postgresCpuSeconds(bench.server), postgresCpuSeconds(replica)];
        const [readRound, writeRound] = await mixed(server.url, options.seconds);
        const primaryCpu = postgresCpuSeconds(bench.server) - (cpuBefore[0] ?? 0);
        const replicaCpu = postgresCpuSeconds(replica) - (cpuBefore[1] ?? 0);
        if (readRound.non2xx + readRound.errors + writeRound.non2xx + writeRound.errors > 0) {
          throw new Error(
            `${server.name}: ${readRound.non2xx + writeRound.non2xx} non-2xx and ${readRound.errors + writeRound.errors} errors in scenario I`,
          );
        }
        measured[server.name]?.push({
          reads: readRound,
          writes: writeRound,
          primaryCpu,
          replicaCpu,
        });
        log(
          `  I round ${round} ${server.name.padEnd(15)} ${Math.round(readRound.requestsPerSecond)} reads/s  p99 ${readRound.p99} ms  ${Math.round(writeRound.requestsPerSecond)} orders/s  CPU s primary ${primaryCpu.toFixed(1)} replica ${replicaCpu.toFixed(1)}`,
        );
      }
    }
    const fallbacks =
      metric(await scrape(), /^keel_replica_transitions_total\{to="primary"\} (\S+)$/m) -
      fallbacksBefore;
    const primaryOnly = summarise(measured.primary ?? []);
    const withReplica = summarise(measured['primary+replica'] ?? []);
    return {
      primaryOnly,
      withReplica,
      ratio: withReplica.reads.median / primaryOnly.reads.median,
      fallbacks,
      baseBackupSeconds,
    };
  } finally {
    for (const server of servers) await server.stop();
    await replica.stop();
    await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots
              where slot_name = ${slotName}`.execute(superuser);
    await rm(replicaDir, { recursive: true, force: true });
    await cleanUp(
      owner,
      userIds,
      products.map((p) => p.id),
    );
  }
}

function summarise(rounds: Setup['rounds']): Setup {
  const reads = rounds.reduce((sum, r) => sum + r.reads.total, 0) || 1;
  return {
    reads: summarize(rounds.map((r) => r.reads.requestsPerSecond)),
    readP99: summarize(rounds.map((r) => r.reads.p99)).median,
    writes: summarize(rounds.map((r) => r.writes.requestsPerSecond)),
    primaryCpuPerThousandReads: (rounds.reduce((s, r) => s + r.primaryCpu, 0) * 1000) / reads,
    replicaCpuPerThousandReads: (rounds.reduce((s, r) => s + r.replicaCpu, 0) * 1000) / reads,
    rounds,
  };
}

async function registerWriters(url: string, run: string, userIds: string[]): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < writers; i += 1) {
    const response = await fetch(`${url}/trpc/auth.register?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        0: {
          json: {
            email: `replica-${run}-${i}@keel.dev`.toLowerCase(),
            password: 'bench-password-123',
            displayName: 'Replica bench',
          },
        },
      }),
    });
    const body = (await response.json()) as [
      { result: { data: { json: { token: string; user: { id: string } } } } },
    ];
    tokens.push(body[0].result.data.json.token);
    userIds.push(body[0].result.data.json.user.id);
  }
  return tokens;
}

/** Leaves the shared bench data as it was (orders may land just after the load stops: retry). */
async function cleanUp(owner: Kysely<DB>, userIds: string[], productIds: string[]) {
  for (let attempt = 1; ; attempt += 1) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      await owner.transaction().execute(async (trx) => {
        if (userIds.length) {
          await trx.deleteFrom('orders').where('user_id', 'in', userIds).execute();
          await trx.deleteFrom('sessions').where('user_id', 'in', userIds).execute();
          await trx.deleteFrom('users').where('id', 'in', userIds).execute();
        }
        await trx.deleteFrom('products').where('id', 'in', productIds).execute();
      });
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

const ticksPerSecond = 100;

/**
 * CPU seconds (user + system) a PostgreSQL server has used: the postmaster,
 * its live backends and workers, and those that have exited (Linux /proc).
 */
function postgresCpuSeconds(server: EmbeddedPostgres): number {
  const pid = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const fields = (p: number | string) => {
    try {
      const text = readFileSync(`/proc/${p}/stat`, 'utf8');
      return text.slice(text.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  };
  // After the command: state, ppid, … utime (11), stime (12), cutime (13), cstime (14).
  const own = fields(pid);
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own?.[i] ?? 0), 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = fields(entry);
    if (Number(child?.[1]) === pid) ticks += Number(child?.[11] ?? 0) + Number(child?.[12] ?? 0);
  }
  return ticks / ticksPerSecond;
}
