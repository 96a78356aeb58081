// `pnpm --filter @keel/bench bench:endpoints`: scenario L alone (products.byId,
// orders.list signed in, products.update by an admin, each against bare
// Express), for tuning (BENCH_ROUNDS, BENCH_SECONDS).
import '@keel/runtime/require-node';
import { ownerDb, prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { endpointThroughput } from './scenario-endpoints';

const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const owner = ownerDb(bench);
try {
  const results = await endpointThroughput(
    bench,
    owner,
    { rounds: benchEnv.BENCH_ROUNDS, seconds: benchEnv.BENCH_SECONDS ?? 8, warmupSeconds: 5 },
    log,
  );
  for (const r of results) {
    log(
      `${r.name}: keel ${Math.round(r.keel.rps.median)} req/s p99 ${r.keel.p99} ms rss ${Math.round(r.keel.rssMiB)} MiB cpu ${Math.round(r.keel.cpuMicrosPerRequest)} µs | express ${Math.round(r.express.rps.median)} req/s p99 ${r.express.p99} ms rss ${Math.round(r.express.rssMiB)} MiB cpu ${Math.round(r.express.cpuMicrosPerRequest)} µs | ${r.ratio.toFixed(2)} ×, p99 ${r.p99Ratio.toFixed(2)} ×`,
    );
  }
} finally {
  await owner.destroy();
  await bench.stop();
}
