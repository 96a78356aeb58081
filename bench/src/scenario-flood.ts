// G. A search flood from one address against catalogue reads from another:
// 16 clients on 127.0.0.1 send heavy searches (three-letter patterns that
// match much of the catalogue, and batches of them) while four people on
// 127.0.0.2–127.0.0.5 read products.byId. With the read limits on (the production
// defaults), the probe's p99 must stay within 2× its unloaded p99.
import { request } from 'node:http';
import type { DB } from '@keel/db';
import type { Kysely } from 'kysely';
import type { BenchDatabase } from './bench-database';
import { benchEnv } from './env';
import { runLoad } from './load';
import { startServer } from './processes';
import { keelScript, keelServerEnv } from './scenario-list';

export interface FloodResult {
  unloadedP99: number;
  loadedP99: number;
  ratio: number;
  flood: { rps: number; refusedShare: number };
  /** The same flood with the read limits turned off, for contrast. */
  unprotected: { loadedP99: number; ratio: number; floodRps: number };
}

const patterns = ['ent', 'and', 'ion', 'ter', 'ing', 'ate', 'lam', 'ten', 'des', 'ket'];

/** A batched GET of products.list searches, as the client sends it. */
function searchBatch(count: number, offset: number): string {
  const input = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      i,
      { json: { search: patterns[(offset + i) % patterns.length], limit: 20 } },
    ]),
  );
  const paths = Array.from({ length: count }, () => 'products.list').join(',');
  return `/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
}

/**
 * `products.byId` from 127.0.0.2–127.0.0.5, four people each at a person's
 * pace (one request every 100 ms, under the per-address read limit), for
 * `seconds`; latencies in ms. Four of them give a p99 over ~400 samples
 * rather than ~100, where it would be the second-slowest request and mostly
 * noise. A refused or failed probe counts as an infinitely slow one.
 */
async function probe(url: string, ids: string[], seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  let next = 0;
  const one = (id: string, localAddress: string) =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const path = `/trpc/products.byId?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { id } } }))}`;
      const req = request(`${url}${path}`, { localAddress }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(
            res.statusCode === 200 ? performance.now() - started : Number.POSITIVE_INFINITY,
          );
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const person = async (localAddress: string) => {
    while (Date.now() < until) {
      await one(ids[next++ % ids.length] ?? '', localAddress);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map(person));
  return latencies;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

async function measure(
  bench: BenchDatabase,
  ids: string[],
  env: Record<string, string>,
  seconds: number,
): Promise<{ unloaded: number; loaded: number; floodRps: number; refusedShare: number }> {
  const keel = await startServer('keel-flood', keelScript, env, '/readyz');
  try {
    await probe(keel.url, ids, 2); // warm-up
    const unloaded = p99(await probe(keel.url, ids, seconds));
    let offset = 0;
    const flood = runLoad({
      url: keel.url,
      connections: 16,
      seconds,
      next: () => {
        offset += 1;
        return { path: searchBatch(offset % 3 === 0 ? 20 : 1, offset) };
      },
    });
    const loadedLatencies = await probe(keel.url, ids, seconds);
    const round = await flood;
    return {
      unloaded,
      loaded: p99(loadedLatencies),
      floodRps: round.requestsPerSecond,
      refusedShare: round.total ? round.non2xx / round.total : 0,
    };
  } finally {
    await keel.stop();
  }
}

export async function searchFlood(
  bench: BenchDatabase,
  owner: Kysely<DB>,
  seconds: number,
  log: (line: string) => void,
): Promise<FloodResult> {
  const ids = (
    await owner
      .selectFrom('products')
      .select('id')
      .where('deleted_at', 'is', null)
      .limit(500)
      .execute()
  ).map((r) => r.id);
  // The production defaults for the read limits, not the bench's raised ones.
  const base = keelServerEnv(bench);
  const protectedEnv = {
    ...base,
    READ_RATE_LIMIT_PER_MINUTE: '600',
    MAX_SEARCHES_PER_REQUEST: '4',
    MAX_CONCURRENT_SEARCHES: String(benchEnv.BENCH_CONCURRENT_SEARCHES),
  };
  const unprotectedEnv = {
    ...base,
    READ_RATE_LIMIT_PER_MINUTE: '1000000000',
    MAX_SEARCHES_PER_REQUEST: '100',
    MAX_CONCURRENT_SEARCHES: '1000',
  };
  const on = await measure(bench, ids, protectedEnv, seconds);
  log(`  G limits on: byId p99 ${on.unloaded.toFixed(1)} → ${on.loaded.toFixed(1)} ms`);
  const off = await measure(bench, ids, unprotectedEnv, seconds);
  log(`  G limits off: byId p99 ${off.unloaded.toFixed(1)} → ${off.loaded.toFixed(1)} ms`);
  return {
    unloadedP99: on.unloaded,
    loadedP99: on.loaded,
    ratio: on.loaded / Math.max(on.unloaded, 0.001),
    flood: { rps: on.floodRps, refusedShare: on.refusedShare },
    unprotected: {
      loadedP99: off.loaded,
      ratio: off.loaded / Math.max(off.unloaded, 0.001),
      floodRps: off.floodRps,
    },
  };
}
