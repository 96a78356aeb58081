// Scenario K: scenario A's load against one production server process and
// against a cluster of two (WEB_CONCURRENCY=2, a pool of DATABASE_POOL_MAX
// each), in interleaved rounds. On this 2-core machine the load generator
// and PostgreSQL share the cores with the workers, so the gain is bounded
// well below 2 ×; on a larger machine the cores are the servers' own.
import type { BenchDatabase } from './bench-database';
import { comparePair, type PairResult } from './scenario-pair';

export const oneProcess = 'keel, 1 process';
export const twoWorkers = 'keel, 2 workers';

export interface ClusterResult extends PairResult {
  /** 2 workers / 1 process throughput, the median of the rounds' own ratios. */
  speedup: number;
}

export async function clusterThroughput(
  bench: BenchDatabase,
  cursors: string[],
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
): Promise<ClusterResult> {
  const result = await comparePair(
    bench,
    cursors,
    [
      { name: oneProcess, env: { WEB_CONCURRENCY: '1' } },
      { name: twoWorkers, env: { WEB_CONCURRENCY: '2' } },
    ],
    options,
    log,
  );
  return { ...result, speedup: result.medianRatio };
}
