// `pnpm --filter @keel/bench bench:pair NAME=VALUE`: scenario A against two
// Keel servers, one with NAME=VALUE, in interleaved rounds (BENCH_ROUNDS,
// at least 5; BENCH_SECONDS). `bench:pair --against=<other build>/main.mjs`
// compares this checkout's build (apps/server/dist) with another one, e.g.
// main's, built with `node apps/server/build.mjs <dir>` from that checkout.
// With no argument it is scenario H (METRICS_PORT); with WEB_CONCURRENCY
// alone, scenario K (1 process against 2 cluster workers).
import '@keel/runtime/require-node';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDb } from '@keel/db';
import { prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { clusterThroughput } from './scenario-cluster';
import { instrumentationCost } from './scenario-instrumentation';
import { sampleCursors } from './scenario-list';
import { comparePair } from './scenario-pair';

const setting = process.argv[2];
const log = (line: string) => console.log(line);
const bench = await prepareBenchDatabase(log);
const db = createDb({ connectionString: bench.ownerUrl, maxConnections: 2 });
const cursors = await sampleCursors(db, 2000);
await db.destroy();
const options = {
  rounds: Math.max(5, benchEnv.BENCH_ROUNDS),
  seconds: benchEnv.BENCH_SECONDS ?? 10,
  warmupSeconds: 3,
};
if (setting?.startsWith('--against=')) {
  const other = resolve(setting.slice('--against='.length));
  if (!existsSync(other)) throw new Error(`--against: no server build at ${other}`);
  const result = await comparePair(
    bench,
    cursors,
    [
      { name: 'keel (other build)', env: {}, script: other },
      { name: 'keel (this build)', env: {} },
    ],
    options,
    log,
  );
  console.log(JSON.stringify(result, null, 2));
} else if (setting === 'WEB_CONCURRENCY') {
  console.log(JSON.stringify(await clusterThroughput(bench, cursors, options, log), null, 2));
} else if (setting === undefined || setting === 'METRICS_PORT') {
  console.log(JSON.stringify(await instrumentationCost(bench, cursors, options, log), null, 2));
} else {
  const [name = '', value = ''] = setting.split('=');
  const result = await comparePair(
    bench,
    cursors,
    [
      { name: 'keel', env: {} },
      { name: `keel ${name}=${value}`, env: { [name]: value } },
    ],
    options,
    log,
  );
  console.log(JSON.stringify(result, null, 2));
}
await bench.stop();
