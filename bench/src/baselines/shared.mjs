// What both hand-written baselines share: the pool (same size and TLS as
// Keel's) and the exact SQL Keel's products.list sends.
import pg from 'pg';

export const sqlText = process.env.BENCH_SQL;
export const port = Number(process.env.PORT);
export const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
});
pool.on('error', () => {});

/** Decodes Keel's cursor format (base64url JSON of the last row's sort values). */
export function params(url) {
  const cursor = new URL(url, 'http://x').searchParams.get('cursor');
  const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')).v;
  return [true, createdAt, id, 51];
}

/** Scenario L's statements (bench/src/scenario-endpoints.ts), when the bench passes them. */
export const endpoints = process.env.BENCH_ENDPOINTS
  ? JSON.parse(process.env.BENCH_ENDPOINTS)
  : undefined;

/** A statement's parameters with each `$name` replaced by `values[name]`. */
export function bind(statement, values) {
  return statement.params.map((p) =>
    typeof p === 'string' && p.startsWith('$') ? values[p.slice(1)] : p,
  );
}
