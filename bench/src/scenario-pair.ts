// Two production Keel servers that differ in one setting (or are two builds), under scenario A's
// load (products.list, limit 50, random cursors, 32 connections), in
// interleaved rounds: what one setting costs or saves, measured in one run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { BenchDatabase } from './bench-database';
import { type Round, runLoad, summarize } from './load';
import { startServer } from './processes';
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

/** user + system CPU time in µs of each process in /proc, and its parent (Linux). */
function processTable(): Map<number, { parent: number; micros: number }> {
  const table = new Map<number, { parent: number; micros: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      // After the name: ppid is field 4 of stat, utime and stime 14 and 15, in clock ticks (100 a second).
      table.set(Number(entry), {
        parent: Number(fields[1]),
        micros: (Number(fields[11]) + Number(fields[12])) * 10_000,
      });
    } catch {
      // gone between the listing and the read
    }
  }
  return table;
}

/**
 * CPU time in µs of a server and every process under it (the workers of a
 * WEB_CONCURRENCY cluster); 0 where /proc does not exist.
 */
function cpuMicros(pid: number | undefined): number {
  if (pid === undefined || !existsSync('/proc')) return 0;
  const table = processTable();
  let total = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    total += table.get(next)?.micros ?? 0;
    for (const [child, { parent }] of table) if (parent === next) pending.push(child);
  }
  return total;
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
  const rounds: Record<string, Round[]> = Object.fromEntries(pair.map((v) => [v.name, []]));
  const cpuPerRequest: Record<string, number[]> = Object.fromEntries(pair.map((v) => [v.name, []]));
  try {
    for (const server of servers)
      await runLoad({ url: server.url, connections, seconds: options.warmupSeconds, next });
    for (let round = 1; round <= options.rounds; round += 1) {
      // Alternate which goes first, so neither always follows the other.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order) {
        const cpuBefore = cpuMicros(server.child.pid);
        const result = await runLoad({
          url: server.url,
          connections,
          seconds: options.seconds,
          next,
        });
        if (result.total > 0)
          cpuPerRequest[server.name]?.push(
            (cpuMicros(server.child.pid) - cpuBefore) / result.total,
          );
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${server.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        rounds[server.name]?.push(result);
        log(
          `  round ${round} ${server.name.padEnd(22)} ${Math.round(result.requestsPerSecond)} req/s  p99 ${result.p99} ms  ${(cpuPerRequest[server.name]?.at(-1) ?? 0).toFixed(0)} µs CPU/request`,
        );
      }
      await afterRound?.();
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const [first, second] = pair.map((v) => rounds[v.name] ?? []) as [Round[], Round[]];
  const [firstCpu, secondCpu] = pair.map((v) => cpuPerRequest[v.name] ?? []) as [
    number[],
    number[],
  ];
  const cpuRatioPerRound = firstCpu.map((c, index) => (secondCpu[index] ?? 0) / c);
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
          cpuMicrosPerRequest: summarize(cpuPerRequest[name] ?? []).median,
        },
      ]),
    ),
    ratioPerRound,
    medianRatio: summarize(ratioPerRound).median,
    cpuRatio: summarize(cpuRatioPerRound).median,
  };
}
