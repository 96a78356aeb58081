// `pnpm --filter @keel/bench bench:replica`: scenario I alone (BENCH_ROUNDS, BENCH_SECONDS).
import '@keel/runtime/require-node';
import type { DB } from '@keel/db';
import { adminDb } from '@keel/platform';
import type { Kysely } from 'kysely';
import { ownerDb, prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { sampleCursors } from './scenario-list';
import { replicaReads } from './scenario-replica';

const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const owner = ownerDb(bench);
const superuser = adminDb(bench.superuserUrl) as Kysely<DB>;
try {
  const cursors = await sampleCursors(owner, 2_000);
  const result = await replicaReads(
    bench,
    owner,
    superuser,
    cursors,
    { rounds: benchEnv.BENCH_ROUNDS, seconds: benchEnv.BENCH_SECONDS ?? 8, warmupSeconds: 3 },
    log,
  );
  const { rounds: _a, ...primaryOnly } = result.primaryOnly;
  const { rounds: _b, ...withReplica } = result.withReplica;
  console.log(JSON.stringify({ ...result, primaryOnly, withReplica }, null, 1));
} finally {
  await owner.destroy();
  await superuser.destroy();
  await bench.stop();
}
