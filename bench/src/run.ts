// `pnpm bench`: every scenario against baselines measured in the same run.
// Writes bench/results/<date>.json and .md and prints the table.
import '@keel/runtime/require-node';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DB } from '@keel/db';
import { adminDb } from '@keel/platform';
import type { Kysely } from 'kysely';
import { ownerDb, prepareBenchDatabase, repositoryRoot } from './bench-database';
import { benchEnv } from './env';
import { startServer } from './processes';
import { clusterThroughput, oneProcess, twoWorkers } from './scenario-cluster';
import { pageDepth } from './scenario-depth';
import { endpointThroughput } from './scenario-endpoints';
import { eventDelivery } from './scenario-events';
import { searchFlood } from './scenario-flood';
import { instrumentationCost } from './scenario-instrumentation';
import { keelScript, keelServerEnv, listThroughput, sampleCursors } from './scenario-list';
import { ordersUnderContention } from './scenario-orders';
import { replicaReads, writers } from './scenario-replica';
import { seedingRate } from './scenario-seed';
import { startupTime } from './scenario-startup';
import { statementFixtures, statementsPerRequest } from './scenario-statements';

const quick = benchEnv.BENCH_QUICK === '1';
const timing = quick
  ? { rounds: 2, seconds: 5, warmupSeconds: 2 }
  : { rounds: 5, seconds: 8, warmupSeconds: 5 };
const log = (line: string) => console.log(line);
const runStarted = performance.now();

const bench = await prepareBenchDatabase(log);
log(
  bench.reused
    ? 'reusing the seeded bench database'
    : `seeded in ${bench.seedSeconds?.toFixed(0)} s`,
);
const owner = ownerDb(bench);
const superuser = adminDb(bench.superuserUrl) as Kysely<DB>;

log('A. list throughput: Keel vs bare Express + pg vs bare node:http + pg');
const cursors = await sampleCursors(owner, 2_000);
const list = await listThroughput(bench, cursors, timing, log);

log(
  'L. products.byId, orders.list (signed in), products.update (admin): Keel vs bare Express + pg',
);
const endpoints = await endpointThroughput(bench, owner, timing, log);

log('H. what metrics cost: scenario A with and without METRICS_PORT, 5 interleaved rounds');
const instrumentation = await instrumentationCost(
  bench,
  cursors,
  { ...timing, rounds: Math.max(5, timing.rounds) },
  log,
);

log('K. scenario A at 1 and 2 cluster workers (WEB_CONCURRENCY), 5 interleaved rounds');
const cluster = await clusterThroughput(
  bench,
  cursors,
  { ...timing, rounds: Math.max(5, timing.rounds) },
  log,
);

const keel = await startServer('keel', keelScript, keelServerEnv(bench), '/readyz');
log('B. page depth');
const depth = await pageDepth(keel.url, owner);
log('C. statements per request');
const fixtures = await statementFixtures(keel.url, owner);
const statements = await statementsPerRequest(keel.url, superuser, fixtures);
await fixtures.cleanup();
log('D. orders under contention');
const orders = await ordersUnderContention(keel.url, owner, superuser, timing, log);
await keel.stop();

log('G. search flood from one address, catalogue reads from another');
const flood = await searchFlood(bench, owner, quick ? 5 : 10, log);

log('I. catalogue reads under a mixed load: primary alone vs primary + streaming replica');
const replica = await replicaReads(bench, owner, superuser, cursors, timing, log);

log('J. order events delivered by the worker to a webhook (signing on), 1 and 2 worker processes');
const events = await eventDelivery(
  bench,
  owner,
  quick
    ? { backlog: 500, paced: 50, perSecond: 20 }
    : { backlog: 2_000, paced: 200, perSecond: 20 },
  log,
);

log('E. seeding rate vs INSERT … SELECT generate_series');
const seed = await seedingRate(bench, quick ? 100_000 : 200_000);
await owner.destroy();
await superuser.destroy();
await bench.stop();

log('F. start-up of pnpm dev');
const startup = await startupTime();

const keelRps = list.servers.keel?.rps.median ?? 0;
const listP99Ratio = list.keelVsExpressP99;
const zero = { rps: { median: 0, min: 0, max: 0 }, p99: 0, cpuMicrosPerRequest: 0 };
const on = instrumentation.variants['keel+metrics'] ?? zero;
const off = instrumentation.variants.keel ?? zero;
const single = cluster.variants[oneProcess] ?? zero;
const pair = cluster.variants[twoWorkers] ?? zero;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const spread = (s: { min: number; max: number }) => `${fmt(s.min)}–${fmt(s.max)}`;
const rows: [string, string, string, boolean | null][] = [
  ...Object.entries(list.servers).map(
    ([name, s]) =>
      [
        `A. products.list, ${name}`,
        `${fmt(s.rps.median)} req/s (${spread(s.rps)}), p50 ${s.p50} ms, p99 ${s.p99} ms, RSS ${fmt(s.rssMiB)} MiB`,
        '',
        null,
      ] as [string, string, string, null],
  ),
  [
    "A. Keel / bare Express (throughput; p99; medians of the rounds' ratios)",
    `${fmt(list.keelVsExpress, 2)} ×; p99 ${fmt(listP99Ratio, 2)} ×`,
    '≥ 1.0 ×; ≤ 1.2 ×',
    list.keelVsExpress >= 1 && listP99Ratio <= 1.2,
  ],
  [
    'A. Keel / bare node:http',
    `${fmt(list.keelVsNodeHttp, 2)} ×`,
    '≥ 0.6 ×',
    list.keelVsNodeHttp >= 0.6,
  ],
  ...endpoints.flatMap((e): [string, string, string, boolean | null][] => [
    [
      `L. ${e.name}, keel / express`,
      `${fmt(e.keel.rps.median)} req/s (${spread(e.keel.rps)}), p99 ${e.keel.p99} ms, RSS ${fmt(e.keel.rssMiB)} MiB / ${fmt(e.express.rps.median)} req/s (${spread(e.express.rps)}), p99 ${e.express.p99} ms, RSS ${fmt(e.express.rssMiB)} MiB`,
      '',
      null,
    ],
    [
      `L. ${e.name}: Keel / bare Express (throughput; p99; medians of the rounds' ratios)`,
      `${fmt(e.ratio, 2)} ×; p99 ${fmt(e.p99Ratio, 2)} ×`,
      '≥ 1.0 ×; ≤ 1.2 ×',
      e.ratio >= 1 && e.p99Ratio <= 1.2,
    ],
  ]),
  [
    `B. keyset page ${fmt(depth.depth)} rows deep / first page`,
    `${fmt(depth.keysetDeepMs, 2)} ms / ${fmt(depth.keysetFirstMs, 2)} ms = ${fmt(depth.keysetRatio, 2)} ×`,
    '≤ 1.3 ×',
    depth.keysetRatio <= 1.3,
  ],
  [
    'B. OFFSET at the same depth / first page (contrast)',
    `${fmt(depth.offsetDeepMs, 1)} ms / ${fmt(depth.offsetFirstMs, 2)} ms = ${fmt(depth.offsetRatio, 0)} ×`,
    '',
    null,
  ],
  [
    'C. orders.list (20 orders) statements',
    String(statements.ordersList),
    '≤ 2',
    statements.ordersList <= 2,
  ],
  [
    'C. orders.byId with 1 / 10 / 50 items statements',
    Object.values(statements.byId).join(' / '),
    '1 each',
    Object.values(statements.byId).every((n) => n === 1),
  ],
  [
    'D. orders.place, 32 clients on 10 hot products',
    `${fmt(orders.ordersPerSecond.median)} orders/s (${spread(orders.ordersPerSecond)}), p99 ${orders.p99} ms, ${orders.deadlocks} deadlocks, ${orders.rollbacks} rollbacks, ${orders.conflicts} refused`,
    '',
    null,
  ],
  [
    'D. orders/s / list req/s of A',
    `${fmt(orders.ordersPerSecond.median / keelRps, 2)} ×`,
    '≥ 0.3 ×',
    orders.ordersPerSecond.median / keelRps >= 0.3,
  ],
  [
    'D. invariants (stock balance, no negative stock, one order per key)',
    orders.checks.join('; '),
    'all hold',
    orders.invariantsHold,
  ],
  [
    `E. fast seed path, ${fmt(seed.rows)} products`,
    `${fmt(seed.fastPathRowsPerSecond)} rows/s vs generate_series ${fmt(seed.ceilingRowsPerSecond)} rows/s = ${fmt(seed.ratio, 2)} ×`,
    '≥ 0.6 ×',
    seed.ratio >= 0.6,
  ],
  [
    'F. pnpm dev → first 200 on /readyz, fresh data directory',
    `${fmt(startup.freshSeconds, 1)} s`,
    '',
    null,
  ],
  [
    'F. pnpm dev → first 200 on /readyz, existing data directory',
    `${fmt(startup.existingSeconds, 1)} s`,
    '',
    null,
  ],
  [
    'G. products.byId p99 from 127.0.0.2 under a 16-client search flood from 127.0.0.1, limits on',
    `${fmt(flood.loadedP99, 1)} ms vs ${fmt(flood.unloadedP99, 1)} ms unloaded = ${fmt(flood.ratio, 2)} × (flood ${fmt(flood.flood.rps)} req/s, ${fmt(flood.flood.refusedShare * 100)} % refused)`,
    '≤ 2.0 ×',
    flood.ratio <= 2,
  ],
  [
    'G. the same with the read limits off (contrast)',
    `${fmt(flood.unprotected.loadedP99, 1)} ms = ${fmt(flood.unprotected.ratio, 2)} × (flood ${fmt(flood.unprotected.floodRps)} req/s)`,
    '',
    null,
  ],
  [
    'H. products.list with metrics on / off (METRICS_PORT; OpenAPI routes on in both)',
    `server CPU per request ${fmt(on.cpuMicrosPerRequest)} vs ${fmt(off.cpuMicrosPerRequest)} µs: cost ${fmt(instrumentation.cpuCost * 100, 1)} % (median of the rounds); throughput ${fmt(on.rps.median)} req/s (${spread(on.rps)}) vs ${fmt(off.rps.median)} req/s (${spread(off.rps)}): ${fmt(instrumentation.cost * 100, 1)} %; p99 ${on.p99} vs ${off.p99} ms; ${fmt(instrumentation.countedCalls)} calls counted`,
    '≤ 2 %',
    instrumentation.cpuCost <= 0.02,
  ],
  [
    `I. catalogue reads/s, 32 readers + ${writers} order writers: primary alone / primary + replica`,
    `${fmt(replica.primaryOnly.reads.median)} req/s (${spread(replica.primaryOnly.reads)}), p99 ${replica.primaryOnly.readP99} ms / ${fmt(replica.withReplica.reads.median)} req/s (${spread(replica.withReplica.reads)}), p99 ${replica.withReplica.readP99} ms = ${fmt(replica.ratio, 2)} × (orders ${fmt(replica.primaryOnly.writes.median)} / ${fmt(replica.withReplica.writes.median)} per s; one machine, shared cores)`,
    '',
    null,
  ],
  [
    'I. primary PostgreSQL CPU per 1000 reads: alone / with the replica (replica’s own)',
    `${fmt(replica.primaryOnly.primaryCpuPerThousandReads, 2)} s / ${fmt(replica.withReplica.primaryCpuPerThousandReads, 2)} s (${fmt(replica.withReplica.replicaCpuPerThousandReads, 2)} s); reads left the replica ${replica.fallbacks} times`,
    '≤ 0.5 ×, 0 times',
    replica.withReplica.primaryCpuPerThousandReads <=
      0.5 * replica.primaryOnly.primaryCpuPerThousandReads && replica.fallbacks === 0,
  ],
  ...events.map((run): [string, string, string, boolean | null] => [
    `J. order events to a local webhook, signed, ${run.workers} worker process${run.workers > 1 ? 'es' : ''}`,
    `${fmt(run.eventsPerSecond)} events/s draining ${fmt(run.backlog)}; commit → delivery p50 ${fmt(run.delayP50Ms, 1)} ms, p99 ${fmt(run.delayP99Ms, 1)} ms (${fmt(run.paced)} events at 20/s)`,
    '',
    null,
  ]),
  [
    'K. products.list, 2 cluster workers / 1 process (WEB_CONCURRENCY; pool 10 each; load generator and PostgreSQL on the same cores)',
    `${fmt(pair.rps.median)} req/s (${spread(pair.rps)}) vs ${fmt(single.rps.median)} req/s (${spread(single.rps)}) = ${fmt(cluster.speedup, 2)} × (median of the rounds' ratios); p99 ${pair.p99} vs ${single.p99} ms; server CPU per request ${fmt(pair.cpuMicrosPerRequest)} vs ${fmt(single.cpuMicrosPerRequest)} µs`,
    '',
    null,
  ],
];

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const table = [
  `Keel benchmark, ${new Date().toISOString()} — ${machine}`,
  `${timing.rounds} rounds × ${timing.seconds} s after ${timing.warmupSeconds} s warm-up, ${list.servers.keel ? 32 : 0} connections, pool ${10}; medians with (min–max)`,
  '',
  '| scenario | measured | goal | met |',
  '|---|---|---|---|',
  ...rows.map(
    ([name, value, goal, met]) =>
      `| ${name} | ${value} | ${goal} | ${met === null ? '' : met ? 'yes' : '**no**'} |`,
  ),
  '',
].join('\n');
console.log(`\n${table}`);

const resultsDir = join(repositoryRoot, 'bench', 'results');
await mkdir(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
await writeFile(
  join(resultsDir, `${stamp}.json`),
  `${JSON.stringify({ machine, timing, list, endpoints, instrumentation, cluster, depth, statements, orders, flood, replica, events, seed, startup, seedSeconds: bench.seedSeconds, totalSeconds: (performance.now() - runStarted) / 1000 }, null, 2)}\n`,
);
await writeFile(join(resultsDir, `${stamp}.md`), table);
await writeFile(join(resultsDir, 'latest.md'), table);
log(
  `total ${((performance.now() - runStarted) / 1000).toFixed(0)} s; results in bench/results/${stamp}.{json,md}`,
);
