import { type CreateTableBuilder, type Kysely, sql } from 'kysely';

/** A referential action; there is no default, so every migration chooses one. */
export type ReferentialAction = 'restrict' | 'cascade' | 'set null';

/** A foreign-key column: the column, its target, and both actions. */
export interface ForeignKeySpec {
  column: string;
  /** The referenced table; the referenced column is its `id`. */
  references: string;
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
  /** Nullable columns are for optional relationships (with `set null`). */
  nullable?: boolean;
  /**
   * Skip the single-column index when a composite index made in the same
   * migration leads with this column (the conformance suite checks it).
   */
  indexed?: false;
}

/** What `createStandardTable` adds beyond the standard columns. */
export interface StandardTableSpec {
  /** The schema the table lives in; `public` when left out. */
  schema?: string;
  /** Foreign-key columns, each with a named constraint and a leading index. */
  foreignKeys?: ForeignKeySpec[];
  /** The table's own columns and constraints. */
  columns?: (table: CreateTableBuilder<string, string>) => CreateTableBuilder<string, string>;
  /**
   * `create unlogged table`: no write-ahead log, so writes cost less, but
   * PostgreSQL empties the table after a crash and streaming replicas do not
   * receive it. Only for data that may be lost (counters, caches).
   */
  unlogged?: boolean;
}

/**
 * Creates a table with the four columns every Keel table has (docs/conventions.md):
 * `id uuid default uuidv7()`, `created_at`, `updated_at` (kept current by a
 * `BEFORE UPDATE` trigger) and `deleted_at`; plus foreign keys with their
 * indexes. Constraint and index names follow `<table>_<column>_<kind>`.
 *
 * @example
 * ```ts
 * import { createStandardTable } from '@keel/db';
 * await createStandardTable(db, 'orders', {
 *   foreignKeys: [{ column: 'user_id', references: 'users', onDelete: 'restrict', onUpdate: 'cascade' }],
 *   columns: (t) => t.addColumn('total_cents', 'bigint', (c) => c.notNull()),
 * });
 * ```
 */
export async function createStandardTable(
  db: Kysely<unknown>,
  name: string,
  spec: StandardTableSpec = {},
): Promise<void> {
  if (spec.schema) db = db.withSchema(spec.schema);
  const qualified = spec.schema ? `${spec.schema}.${name}` : name;
  let table = db.schema.createTable(name);
  // Kysely has no builder method for UNLOGGED; modifyFront puts it after CREATE.
  if (spec.unlogged) table = table.modifyFront(sql`unlogged`);
  table = table
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addPrimaryKeyConstraint(`${name}_pkey`, ['id']);
  for (const fk of spec.foreignKeys ?? []) {
    table = table
      .addColumn(fk.column, 'uuid', (c) => (fk.nullable ? c : c.notNull()))
      .addForeignKeyConstraint(
        `${name}_${fk.column}_fkey`,
        [fk.column],
        fk.references,
        ['id'],
        (c) => c.onDelete(fk.onDelete).onUpdate(fk.onUpdate),
      );
  }
  table = spec.columns ? spec.columns(table) : table;
  table = table
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`current_timestamp`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`current_timestamp`))
    .addColumn('deleted_at', 'timestamptz');
  await table.execute();
  for (const fk of spec.foreignKeys ?? []) {
    if (fk.indexed !== false) await createForeignKeyIndex(db, name, fk.column);
  }
  // Trigger DDL has no builder in Kysely.
  await sql`create trigger ${sql.id(`${name}_set_updated_at`)} before update on ${sql.table(qualified)}
    for each row execute function set_updated_at()`.execute(db);
}

/**
 * Adds a foreign-key column to an existing table, with its index and both
 * referential actions.
 *
 * @example
 * ```ts
 * import { addForeignKey } from '@keel/db';
 * await addForeignKey(db, 'orders', { column: 'coupon_id', references: 'coupons', onDelete: 'set null', onUpdate: 'cascade', nullable: true });
 * ```
 */
export async function addForeignKey(
  db: Kysely<unknown>,
  table: string,
  fk: ForeignKeySpec,
): Promise<void> {
  await db.schema
    .alterTable(table)
    .addColumn(fk.column, 'uuid', (c) => (fk.nullable ? c : c.notNull()))
    .execute();
  await db.schema
    .alterTable(table)
    .addForeignKeyConstraint(
      `${table}_${fk.column}_fkey`,
      [fk.column],
      fk.references,
      ['id'],
      (c) => c.onDelete(fk.onDelete).onUpdate(fk.onUpdate),
    )
    .execute();
  if (fk.indexed !== false) await createForeignKeyIndex(db, table, fk.column);
}

async function createForeignKeyIndex(
  db: Kysely<unknown>,
  table: string,
  column: string,
): Promise<void> {
  await db.schema.createIndex(`${table}_${column}_idx`).on(table).column(column).execute();
}

/** Drops a table made by `createStandardTable` (its trigger and indexes go with it). */
export async function dropStandardTable(db: Kysely<unknown>, name: string): Promise<void> {
  await db.schema.dropTable(name).execute();
}
