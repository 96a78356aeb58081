// `pnpm --filter @keel/bench bench:orders`: scenario D alone (orders.place by
// 32 clients on 10 hot products), for tuning (BENCH_ROUNDS, BENCH_SECONDS).
import '@keel/runtime/require-node';
import type { DB } from '@keel/db';
import { adminDb } from '@keel/platform';
import type { Kysely } from 'kysely';
import { ownerDb, prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { startServer } from './processes';
import { keelScript, keelServerEnv } from './scenario-list';
import { ordersUnderContention } from './scenario-orders';

const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const owner = ownerDb(bench);
const superuser = adminDb(bench.superuserUrl) as Kysely<DB>;
const keel = await startServer('keel', keelScript, keelServerEnv(bench), '/readyz');
try {
  const result = await ordersUnderContention(
    keel.url,
    owner,
    superuser,
    { rounds: benchEnv.BENCH_ROUNDS, seconds: benchEnv.BENCH_SECONDS ?? 10 },
    log,
  );
  log(
    `D: ${Math.round(result.ordersPerSecond.median)} orders/s (${Math.round(result.ordersPerSecond.min)}–${Math.round(result.ordersPerSecond.max)}), p99 ${result.p99} ms; invariants ${result.invariantsHold ? 'hold' : 'BROKEN'}`,
  );
} finally {
  await keel.stop();
  await owner.destroy();
  await superuser.destroy();
  await bench.stop();
}
