import { existsSync, readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/** One measured round. */
export interface Round {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

/** What to send: each request gets the next path (and body, headers) from `next`. */
export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  next: () => { path: string; body?: string; headers?: Record<string, string> };
}

/** Runs autocannon for `seconds` and returns throughput and latency. */
export async function runLoad(spec: LoadSpec): Promise<Round> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    method: spec.method ?? 'GET',
    requests: [
      {
        setupRequest: (request) => {
          const next = spec.next();
          return {
            ...request,
            path: next.path,
            ...(next.body !== undefined ? { body: next.body } : {}),
            headers: { ...request.headers, 'content-type': 'application/json', ...next.headers },
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

/** Median and spread of a list of numbers. */
export function summarize(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** Resident set size of a process in MiB (Linux /proc), or 0 where it cannot be read. */
export function residentMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return kib / 1024;
  } catch {
    return 0;
  }
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

/** Busy CPU time in µs of the whole machine, every core (Linux /proc/stat); 0 elsewhere. */
export function machineBusyMicros(): number {
  try {
    const fields =
      readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.split(/\s+/).slice(1) ?? [];
    // user nice system idle iowait irq softirq steal: all but idle and iowait, in ticks (100 a second).
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return (
      ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) *
      10_000
    );
  } catch {
    return 0;
  }
}

/**
 * CPU time in µs of a server and every process under it (the workers of a
 * WEB_CONCURRENCY cluster); 0 where /proc does not exist.
 */
export function cpuMicros(pid: number | undefined): number {
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

/** One server under one load: where it listens, its process, and what to send. */
export interface Contender {
  name: string;
  url: string;
  pid?: number | undefined;
  method?: 'GET' | 'POST';
  next: LoadSpec['next'];
}

/**
 * `numerator` / `denominator` round by round, for throughput and p99, each
 * the median over the rounds: the two runs of a round share its noise, which
 * a ratio of the two sides' own medians does not cancel.
 */
export function pairedRatios(
  numerator: ContenderResult,
  denominator: ContenderResult,
): { rps: number; p99: number; rpsPerRound: number[] } {
  const rpsPerRound = numerator.rounds.map(
    (r, i) => r.requestsPerSecond / (denominator.rounds[i]?.requestsPerSecond ?? Number.NaN),
  );
  const p99PerRound = numerator.rounds.map(
    (r, i) => r.p99 / (denominator.rounds[i]?.p99 ?? Number.NaN),
  );
  return {
    rps: summarize(rpsPerRound).median,
    p99: summarize(p99PerRound).median,
    rpsPerRound,
  };
}

/** A contender's rounds, with its summary and the largest RSS seen after a round. */
export interface ContenderResult {
  rps: ReturnType<typeof summarize>;
  p50: number;
  p99: number;
  rssMiB: number;
  /** The server's own CPU time per answered request, median of the rounds (steadier than throughput on shared cores). */
  cpuMicrosPerRequest: number;
  /** The same, round by round (rounds that answered nothing are left out). */
  cpuPerRound: number[];
  rounds: Round[];
}

/**
 * A warm-up for each contender, then `rounds` rounds in which each runs in
 * turn, so machine noise hits all of them alike (`alternate`: every other
 * round in reverse order, so none always follows another; `afterRound`: run
 * after each round). Any non-2xx answer or socket error fails the scenario:
 * a fast error is not a result. CPU time counts each server's process and
 * the processes under it.
 */
export async function interleavedRounds(
  label: string,
  contenders: Contender[],
  options: {
    rounds: number;
    seconds: number;
    warmupSeconds: number;
    connections: number;
    alternate?: boolean;
    afterRound?: () => Promise<void>;
  },
  log: (line: string) => void,
): Promise<Record<string, ContenderResult>> {
  const load = (contender: Contender, seconds: number) =>
    runLoad({
      url: contender.url,
      connections: options.connections,
      seconds,
      ...(contender.method ? { method: contender.method } : {}),
      next: contender.next,
    });
  for (const contender of contenders) await load(contender, options.warmupSeconds);
  const rounds = new Map<string, Round[]>(contenders.map((c) => [c.name, []]));
  const rss = new Map<string, number>(contenders.map((c) => [c.name, 0]));
  const cpu = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const width = Math.max(...contenders.map((c) => c.name.length));
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = options.alternate && round % 2 === 0 ? [...contenders].reverse() : contenders;
    for (const contender of order) {
      const cpuBefore = cpuMicros(contender.pid);
      const clientBefore = process.cpuUsage();
      const machineBefore = machineBusyMicros();
      const result = await load(contender, options.seconds);
      const answered = Math.max(1, result.total);
      const perRequest = (cpuMicros(contender.pid) - cpuBefore) / answered;
      const client = process.cpuUsage(clientBefore);
      const clientPerRequest = (client.user + client.system) / answered;
      const machinePerRequest = (machineBusyMicros() - machineBefore) / answered;
      if (result.total > 0) cpu.get(contender.name)?.push(perRequest);
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `${contender.name}: ${result.non2xx} non-2xx and ${result.errors} errors in ${label}`,
        );
      }
      rounds.get(contender.name)?.push(result);
      const mib = residentMiB(contender.pid);
      rss.set(contender.name, Math.max(rss.get(contender.name) ?? 0, mib));
      log(
        `  ${label} round ${round} ${contender.name.padEnd(width)} ${Math.round(result.requestsPerSecond)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  rss ${Math.round(mib)} MiB  cpu ${Math.round(perRequest)} µs/req  load generator ${Math.round(clientPerRequest)}  machine ${Math.round(machinePerRequest)}`,
      );
    }
    await options.afterRound?.();
  }
  return Object.fromEntries(
    contenders.map(({ name }) => {
      const list = rounds.get(name) ?? [];
      return [
        name,
        {
          rps: summarize(list.map((r) => r.requestsPerSecond)),
          p50: summarize(list.map((r) => r.p50)).median,
          p99: summarize(list.map((r) => r.p99)).median,
          rssMiB: rss.get(name) ?? 0,
          cpuMicrosPerRequest: summarize(cpu.get(name) ?? []).median,
          cpuPerRound: cpu.get(name) ?? [],
          rounds: list,
        },
      ];
    }),
  );
}
