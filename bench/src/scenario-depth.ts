import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { summarize } from './load';
import { newestCursor } from './scenario-list';

export interface DepthResult {
  keysetFirstMs: number;
  keysetDeepMs: number;
  keysetRatio: number;
  offsetFirstMs: number;
  offsetDeepMs: number;
  offsetRatio: number;
  depth: number;
}

async function timeRequests(url: string, count: number): Promise<number> {
  const durations: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`depth request failed with ${response.status}`);
    durations.push(performance.now() - started);
  }
  return summarize(durations.slice(Math.floor(count / 5))).median;
}

async function timeSql(db: Kysely<DB>, offset: number, count: number): Promise<number> {
  const durations: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await sql`
      select id, sku, name, description, price_cents, currency, stock_quantity, is_active, created_at, updated_at
      from products where deleted_at is null and is_active
      order by created_at desc, id desc offset ${offset} limit 50`.execute(db);
    durations.push(performance.now() - started);
  }
  return summarize(durations).median;
}

/**
 * Scenario B: latency of the first page against a page at the far end of
 * the table (about a million rows deep), both keyset through Keel over HTTP,
 * and the same depth with OFFSET in a side query for contrast.
 */
export async function pageDepth(keelUrl: string, db: Kysely<DB>): Promise<DepthResult> {
  const { rows } = await sql<{ created_at: string; id: string; depth: number }>`
    select created_at::text as created_at, id::text as id,
      (select count(*)::int from products where deleted_at is null and is_active) - 51 as depth
    from products where deleted_at is null and is_active
    order by created_at asc, id asc offset 50 limit 1`.execute(db);
  const deep = rows[0];
  if (!deep) throw new Error('no products to page through');
  const cursor = newestCursor(deep.created_at, deep.id);
  const page = (input: object) =>
    `${keelUrl}/trpc/products.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: input } }))}`;
  const keysetFirstMs = await timeRequests(page({ limit: 50 }), 200);
  const keysetDeepMs = await timeRequests(page({ limit: 50, cursor }), 200);
  const offsetFirstMs = await timeSql(db, 0, 5);
  const offsetDeepMs = await timeSql(db, deep.depth, 5);
  return {
    keysetFirstMs,
    keysetDeepMs,
    keysetRatio: keysetDeepMs / keysetFirstMs,
    offsetFirstMs,
    offsetDeepMs,
    offsetRatio: offsetDeepMs / offsetFirstMs,
    depth: deep.depth,
  };
}
