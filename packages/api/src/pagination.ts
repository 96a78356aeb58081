import { type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import { InvalidRequest } from './domain-errors';

/** The type of a sort column, which decides how its cursor value is checked and cast. */
export type KeysetColumnType = 'timestamptz' | 'bigint' | 'text' | 'uuid';

/** One keyset sort: its columns in order (the last one is always a unique `id`). */
export interface KeysetSort {
  /** Stored in the cursor, so a cursor from another list or sort is refused. */
  name: string;
  direction: 'asc' | 'desc';
  columns: readonly { ref: string; type: KeysetColumnType }[];
}

/** The page input every list accepts. */
export const pageInput = {
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2000).optional(),
};

/** A page of rows and the cursor of the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const valueCheck: Record<KeysetColumnType, z.ZodType<string>> = {
  // PostgreSQL's own text form of the value, so the round trip is exact
  // (timestamptz keeps its microseconds, which a JS Date would lose).
  timestamptz: z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/),
  bigint: z.string().regex(/^-?\d{1,19}$/),
  text: z.string().max(1000),
  uuid: z.uuid(),
};

const cursorShape = z.object({ s: z.string(), v: z.array(z.string()) });

/** Encodes the sort values of a row as an opaque cursor. */
export function encodeCursor(sort: KeysetSort, values: string[]): string {
  return Buffer.from(JSON.stringify({ s: sort.name, v: values })).toString('base64url');
}

/** Decodes and checks a cursor; anything tampered, foreign or malformed is BAD_REQUEST. */
export function decodeCursor(sort: KeysetSort, cursor: string): string[] {
  const invalid = () => new InvalidRequest('cursor is invalid for this list');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const shape = cursorShape.safeParse(parsed);
  if (!shape.success || shape.data.s !== sort.name || shape.data.v.length !== sort.columns.length) {
    throw invalid();
  }
  return sort.columns.map((column, i) => {
    const checked = valueCheck[column.type].safeParse(shape.data.v[i]);
    if (!checked.success) throw invalid();
    return checked.data;
  });
}

/**
 * Keyset pagination for any select query: orders by the sort's columns,
 * continues strictly after the cursor's row with a row comparison that the
 * matching composite index serves, fetches one row more than the limit to
 * know whether a next page exists, and never uses OFFSET.
 *
 * @example
 * ```ts
 * const page = await paginate(db.selectFrom('products').select(['id', 'name']), byNewest, { limit: 20 });
 * ```
 */
export async function paginate<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  sort: KeysetSort,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<O>> {
  const after = page.cursor ? decodeCursor(sort, page.cursor) : undefined;
  const rows = await withKeyset(query, sort, after, page.limit + 1).execute();
  return toPage(rows, sort, page.limit);
}

/** A row of a keyset query: the output columns and the sort's values as text. */
export type KeysetRow<O> = O & Record<`__keyset_${number}`, string>;

/**
 * The keyset clauses of `paginate` on `query`: the sort's columns selected
 * as text (for the next cursor), the condition after `after` (a decoded
 * cursor's values, or none for the first page), the order, and `fetch`
 * rows (the page size + 1). The values go in as parameters, so a query
 * built with stand-ins compiles once (`compileOnce`).
 */
export function withKeyset<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  sort: KeysetSort,
  after: readonly unknown[] | undefined,
  fetch: number,
): SelectQueryBuilder<DB, TB, KeysetRow<O>> {
  const refs = sort.columns.map((c) => sql.ref(c.ref));
  let keyed = query as unknown as SelectQueryBuilder<DB, TB, KeysetRow<O>>;
  sort.columns.forEach((c, i) => {
    // The cursor keeps PostgreSQL's text form of each sort value (see valueCheck).
    keyed = keyed.select(sql<string>`${sql.ref(c.ref)}::text`.as(`__keyset_${i}`)) as typeof keyed;
  });
  if (after) {
    const bound = after.map(
      (v, i) => sql`cast(${v} as ${sql.raw(sort.columns[i]?.type ?? 'text')})`,
    );
    const operator = sql.raw(sort.direction === 'asc' ? '>' : '<');
    // A row comparison: the builder has no tuple-with-cast form.
    keyed = keyed.where(sql<boolean>`(${sql.join(refs)}) ${operator} (${sql.join(bound)})`);
  }
  for (const ref of refs) keyed = keyed.orderBy(ref, sort.direction);
  return keyed.limit(fetch);
}

/** A page of `limit` from a keyset query's rows (fetched with one more): the items without the keyset columns, and the next cursor. */
export function toPage<O>(rows: KeysetRow<O>[], sort: KeysetSort, limit: number): Page<O> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1) as Record<string, unknown> | undefined;
  const nextCursor =
    hasMore && last
      ? encodeCursor(
          sort,
          sort.columns.map((_, i) => String(last[`__keyset_${i}`])),
        )
      : null;
  const keysetKeys = new Set(sort.columns.map((_, i) => `__keyset_${i}`));
  const outputKeys = pageRows[0] ? Object.keys(pageRows[0]).filter((k) => !keysetKeys.has(k)) : [];
  // Copy each row without the cursor columns into objects of one shape
  // (deleting keys would turn every row into a slow dictionary object).
  const items = pageRows.map((row) => {
    const item: Record<string, unknown> = {};
    for (const key of outputKeys) item[key] = (row as Record<string, unknown>)[key];
    return item as O;
  });
  return { items, nextCursor };
}
