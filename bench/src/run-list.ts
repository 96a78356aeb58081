// `pnpm --filter @keel/bench exec tsx src/run-list.ts`: scenario A alone, for tuning (BENCH_ROUNDS, BENCH_SECONDS).

import { createDb } from '@keel/db';
import { prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { listThroughput, sampleCursors } from './scenario-list';

const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const db = createDb({ connectionString: bench.ownerUrl, maxConnections: 2 });
const cursors = await sampleCursors(db, 2000);
await db.destroy();
const result = await listThroughput(
  bench,
  cursors,
  {
    rounds: benchEnv.BENCH_ROUNDS,
    seconds: benchEnv.BENCH_SECONDS ?? 8,
    warmupSeconds: 5,
  },
  log,
);
console.log(
  JSON.stringify(
    {
      keelVsExpress: result.keelVsExpress,
      keelVsExpressP99: result.keelVsExpressP99,
      keelVsNodeHttp: result.keelVsNodeHttp,
      rps: Object.fromEntries(Object.entries(result.servers).map(([k, v]) => [k, v.rps])),
    },
    null,
    1,
  ),
);
await bench.stop();
