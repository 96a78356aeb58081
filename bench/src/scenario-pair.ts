// Two production Keel servers that differ in one setting, under scenario A's
// load (products.list, limit 50, random cursors, 32 connections), in
// interleaved rounds: what one setting costs or saves, measured in one run.
import type { BenchDatabase } from './bench-database';
import { type Round, runLoad, summarize } from './load';
import { startServer } from './processes';
import { connections, keelScript, keelServerEnv } from './scenario-list';

export interface Variant {
  name: string;
  /** Settings on top of the bench's production environment. */
  env: Record<string, string>;
}

export interface PairResult {
  variants: Record<string, { rps: ReturnType<typeof summarize>; p99: number }>;
  /** second / first for each round (the two runs of a round share its noise). */
  ratioPerRound: number[];
  medianRatio: number;
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
        keelScript,
        { ...keelServerEnv(bench), ...variant.env },
        '/readyz',
      ),
    );
  let i = 0;
  const next = () => {
    i = (i + 1) % cursors.length;
    const input = { 0: { json: { limit: 50, cursor: cursors[i] } } };
    return {
      path: `/trpc/products.list?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`,
    };
  };
  const rounds: Record<string, Round[]> = Object.fromEntries(pair.map((v) => [v.name, []]));
  try {
    for (const server of servers)
      await runLoad({ url: server.url, connections, seconds: options.warmupSeconds, next });
    for (let round = 1; round <= options.rounds; round += 1) {
      // Alternate which goes first, so neither always follows the other.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order) {
        const result = await runLoad({
          url: server.url,
          connections,
          seconds: options.seconds,
          next,
        });
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${server.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        rounds[server.name]?.push(result);
        log(
          `  round ${round} ${server.name.padEnd(22)} ${Math.round(result.requestsPerSecond)} req/s  p99 ${result.p99} ms`,
        );
      }
      await afterRound?.();
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const [first, second] = pair.map((v) => rounds[v.name] ?? []) as [Round[], Round[]];
  const ratioPerRound = first.map(
    (r, index) => (second[index]?.requestsPerSecond ?? 0) / r.requestsPerSecond,
  );
  return {
    variants: Object.fromEntries(
      Object.entries(rounds).map(([name, list]) => [
        name,
        {
          rps: summarize(list.map((r) => r.requestsPerSecond)),
          p99: summarize(list.map((r) => r.p99)).median,
        },
      ]),
    ),
    ratioPerRound,
    medianRatio: summarize(ratioPerRound).median,
  };
}
