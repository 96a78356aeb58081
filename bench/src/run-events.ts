// `pnpm --filter @keel/bench bench:events`: scenario J alone (order events
// delivered by the worker, 1 and 2 processes).
import '@keel/runtime/require-node';
import { ownerDb, prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { eventDelivery } from './scenario-events';

const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const owner = ownerDb(bench);
try {
  await eventDelivery(
    bench,
    owner,
    benchEnv.BENCH_QUICK === '1'
      ? { backlog: 500, paced: 50, perSecond: 20 }
      : { backlog: 2_000, paced: 200, perSecond: 20 },
    log,
  );
} finally {
  await owner.destroy();
  await bench.stop();
}
