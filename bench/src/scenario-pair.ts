// Two production Keel servers that differ in one setting (or are two builds), under scenario A's
// load (products.list, limit 50, random cursors, 32 connections), in
// interleaved rounds: what one setting costs or saves, measured in one run.
import type { BenchDatabase } from './bench-database';
import { type ContenderResult, pairedRatios, summarize } from './load';
import { roundsOnServers, startServer } from './processes';
import { connections, cyclingThrough, keelScript, keelServerEnv } from './scenario-list';

export interface Variant {
  name: string;
  /** Settings on top of the bench's production environment. */
  env: Record<string, string>;
  /** Another server build to run (default apps/server/dist/main.mjs). */
  script?: string;
}

export interface PairResult {
  variants: Record<
    string,
    { rps: ReturnType<typeof summarize>; p99: number; cpuMicrosPerRequest: number }
  >;
  /** second / first for each round (the two runs of a round share its noise). */
  ratioPerRound: number[];
  medianRatio: number;
  /**
   * second / first of the server's own CPU time per request, the median over
   * the rounds: far less noisy than throughput on a machine whose load
   * generator and database share the server's cores.
   */
  cpuRatio: number;
}

export async function comparePair(
  bench: BenchDatabase,
  cursors: string[],
  pair: [Variant, Variant],
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
  afterRound?: () => Promise<void>,
): Promise<PairResult> {
  const servers = [];
  for (const variant of pair)
    servers.push(
      await startServer(
        variant.name,
        variant.script ?? keelScript,
        { ...keelServerEnv(bench), ...variant.env },
        '/readyz',
      ),
    );
  const next = cyclingThrough(cursors);
  const results = await roundsOnServers(
    'pair',
    servers,
    () => next,
    { ...options, connections, alternate: true, ...(afterRound ? { afterRound } : {}) },
    log,
  );
  const [first, second] = pair.map((v) => results[v.name]) as [ContenderResult, ContenderResult];
  // second / first, round by round: the two runs of a round share its noise.
  const cpuRatioPerRound = first.cpuPerRound.map(
    (c, index) => (second.cpuPerRound[index] ?? 0) / c,
  );
  const paired = pairedRatios(second, first);
  return {
    variants: Object.fromEntries(
      Object.entries(results).map(([name, { rps, p99, cpuMicrosPerRequest }]) => [
        name,
        { rps, p99, cpuMicrosPerRequest },
      ]),
    ),
    ratioPerRound: paired.rpsPerRound,
    medianRatio: paired.rps,
    cpuRatio: summarize(cpuRatioPerRound).median,
  };
}
