// `pnpm --filter @keel/bench bench:middleware`: Keel's hand-written request
// log against the ecosystem's pino-http, each in a bare
// node:http server, in interleaved rounds (BENCH_ROUNDS, BENCH_SECONDS): what
// choosing the library would cost or save per request.
import '@keel/runtime/require-node';
import { join } from 'node:path';
import { benchEnv } from './env';
import { type ContenderResult, interleavedRounds } from './load';
import { type RunningServer, startServer } from './processes';

const log = (line: string) => console.log(line);
const script = join(import.meta.dirname, 'middleware-server.ts');
const pairs: [string, string][] = [['keel request log', 'pino-http']];
const headers = { 'x-forwarded-for': '203.0.113.7' };
for (const [ours, theirs] of pairs) {
  const servers: RunningServer[] = [];
  try {
    for (const name of [ours, theirs]) {
      servers.push(
        await startServer(name, script, { MIDDLEWARE_VARIANT: name }, '/', ['--import', 'tsx']),
      );
    }
    const results = await interleavedRounds(
      `${ours} vs ${theirs}`,
      servers.map((s) => ({
        name: s.name,
        url: s.url,
        pid: s.child.pid,
        next: () => ({ path: '/', headers }),
      })),
      {
        rounds: benchEnv.BENCH_ROUNDS,
        seconds: benchEnv.BENCH_SECONDS ?? 5,
        warmupSeconds: 2,
        connections: 32,
      },
      log,
    );
    const a = results[ours] as ContenderResult;
    const b = results[theirs] as ContenderResult;
    log(
      `${ours}: ${Math.round(a.rps.median)} req/s, ${Math.round(a.cpuMicrosPerRequest)} µs CPU/request, p99 ${a.p99} ms | ${theirs}: ${Math.round(b.rps.median)} req/s, ${Math.round(b.cpuMicrosPerRequest)} µs CPU/request, p99 ${b.p99} ms | ours / theirs: throughput ${(a.rps.median / b.rps.median).toFixed(2)} ×, CPU ${(a.cpuMicrosPerRequest / b.cpuMicrosPerRequest).toFixed(2)} ×`,
    );
  } finally {
    for (const server of servers) await server.stop();
  }
}
