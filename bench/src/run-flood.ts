// `pnpm --filter @keel/bench bench:flood`: scenario G alone (the search flood).
import '@keel/runtime/require-node';
import { ownerDb, prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { searchFlood } from './scenario-flood';

const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const owner = ownerDb(bench);
try {
  const result = await searchFlood(bench, owner, benchEnv.BENCH_SECONDS ?? 10, log);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await owner.destroy();
  await bench.stop();
}
