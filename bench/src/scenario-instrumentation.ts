// Scenario H: what metrics cost. Scenario A's load against a production
// Keel server without instrumentation and one with METRICS_PORT set (every
// call timed into prom-client, every response counted, scraped after each
// round). The OpenAPI and REST layer is Express routes under /api,
// /openapi.json and /docs that a /trpc request never reaches: on in both.
import { findFreePort } from '@keel/platform';
import type { BenchDatabase } from './bench-database';
import { comparePair, type PairResult } from './scenario-pair';

export interface InstrumentationCost extends PairResult {
  /** 1 − with / without, the median of the rounds' own throughput ratios. */
  cost: number;
  /** with / without − 1 of the server's CPU time per request (the steadier measure). */
  cpuCost: number;
  /** Calls the metrics listener counted, to show it measured the load. */
  countedCalls: number;
}

export async function instrumentationCost(
  bench: BenchDatabase,
  cursors: string[],
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
): Promise<InstrumentationCost> {
  const metricsPort = await findFreePort();
  let countedCalls = 0;
  const result = await comparePair(
    bench,
    cursors,
    [
      { name: 'keel', env: {} },
      { name: 'keel+metrics', env: { METRICS_PORT: String(metricsPort) } },
    ],
    options,
    log,
    async () => {
      const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = scrape
        .split('\n')
        .find((l) =>
          l.startsWith('keel_procedure_duration_seconds_count{procedure="products.list"'),
        );
      countedCalls = Number(line?.split(' ').at(-1) ?? 0);
    },
  );
  return { ...result, cost: 1 - result.medianRatio, cpuCost: result.cpuRatio - 1, countedCalls };
}
