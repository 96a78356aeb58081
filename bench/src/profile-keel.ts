// Profiling aid: runs Keel's server under --cpu-prof with scenario A's load
// (or, given a name, one of scenario L's: byId, orders, update) and prints
// where the time went (self time by function and by package). Arguments of
// the form NAME=VALUE are added to the server's environment (METRICS_PORT=…
// profiles it with metrics on).
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '@keel/db';
import { ownerDb, prepareBenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { type LoadSpec, runLoad } from './load';
import { startServer } from './processes';
import { endpointFixtures, endpointLoads } from './scenario-endpoints';
import {
  connections,
  cyclingThrough,
  keelScript,
  keelServerEnv,
  sampleCursors,
} from './scenario-list';

const bench = await prepareBenchDatabase(console.log);
const db = createDb({ connectionString: bench.ownerUrl, maxConnections: 2 });
const cursors = await sampleCursors(db, 2000);
await db.destroy();
const dir = await mkdtemp(join(tmpdir(), 'keel-prof-'));
const settings = process.argv.slice(2).filter((arg) => arg.includes('='));
const extraEnv = Object.fromEntries(settings.map((arg) => arg.split(/=(.*)/s, 2)));
const server = await startServer(
  'keel',
  keelScript,
  { ...keelServerEnv(bench), ...extraEnv },
  '/readyz',
  ['--cpu-prof', `--cpu-prof-dir=${dir}`],
);
const endpoint = process.argv.slice(2).find((arg) => !arg.includes('='));
const owner = ownerDb(bench);
const fixtures = endpoint ? await endpointFixtures(owner) : undefined;
const load = fixtures
  ? endpointLoads(fixtures)[['byId', 'orders', 'update'].indexOf(endpoint ?? '')]
  : undefined;
if (endpoint && !load) throw new Error(`unknown endpoint ${endpoint}: byId, orders or update`);
const next: LoadSpec['next'] = load ? load.keel : cyclingThrough(cursors);
const method = load?.method ?? 'GET';
await runLoad({ url: server.url, connections, seconds: 3, method, next });
const result = await runLoad({
  url: server.url,
  connections,
  seconds: benchEnv.BENCH_SECONDS ?? 10,
  method,
  next,
});
await fixtures?.cleanup();
await owner.destroy();
console.log(`${Math.round(result.requestsPerSecond)} req/s under the profiler`);
await server.stop();
await bench.stop();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const id of profile.samples) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/.*\/dist\//, 'dist/');
  fn.set(
    `${functionName || '(anon)'} ${short}:${lineNumber}`,
    (fn.get(`${functionName || '(anon)'} ${short}:${lineNumber}`) ?? 0) + 1,
  );
  const p =
    /node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (url.startsWith('node:') ? 'node-core' : url ? 'app' : functionName);
  pkg.set(p, (pkg.get(p) ?? 0) + 1);
}
const total = profile.samples.length;
const top = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(`\nby package:\n${top(pkg, 20)}\n\nby function:\n${top(fn, 40)}`);
console.log(`profile: ${join(dir, file)}`);
