import { migrationTableSchema } from '@keel/db';
import { type Kysely, sql } from 'kysely';

/** One broken schema rule (docs/conventions.md: naming, standard columns, constraints), named by table and column. */
export interface Violation {
  rule: string;
  table: string;
  column?: string;
  /** The index, constraint or trigger concerned, when it is not a column. */
  object?: string;
  message: string;
}

/** Formats a violation as `rule  table.column: message`. */
export function formatViolation(v: Violation): string {
  const where = [v.table, v.column ?? v.object].filter(Boolean).join('.');
  return `${v.rule}  ${where}: ${v.message}`;
}

interface ColumnRow {
  table: string;
  column: string;
  type: string;
  is_array: boolean;
  not_null: boolean;
  default: string | null;
}
interface ConstraintRow {
  table: string;
  name: string;
  type: 'p' | 'f' | 'u' | 'c' | 'x' | 't' | 'n';
  columns: string[];
  on_delete: string;
  on_update: string;
  definition: string;
}
interface IndexRow {
  table: string;
  name: string;
  columns: string[];
  is_unique: boolean;
  is_primary: boolean;
  predicate: string | null;
}
interface TriggerRow {
  table: string;
  name: string;
  function: string;
  is_before_update_row: boolean;
}

const snakeCase = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
// Words that end in "s" and are singular.
const singularEndingInS = new Set([
  'status',
  'address',
  'alias',
  'bonus',
  'canvas',
  'news',
  'series',
  'species',
  'analysis',
  'basis',
]);
const allowedFkActions = new Set(['r', 'c', 'n']); // restrict, cascade, set null
const actionNames: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

function lastWord(name: string): string {
  return name.split('_').at(-1) ?? name;
}
// Units name one value measured in them: `price_cents`, `timeout_ms`.
const unitWords = new Set(['cents', 'ms', 'seconds', 'minutes', 'hours', 'days', 'bytes']);

function looksPlural(name: string): boolean {
  const word = lastWord(name);
  if (singularEndingInS.has(word) || unitWords.has(word)) return false;
  return word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is');
}

/**
 * Introspects the live catalog of `schema` and returns every table, column,
 * index and constraint that breaks the schema rules of docs/conventions.md. An empty list means the
 * schema conforms.
 *
 * @example
 * ```ts
 * import { checkSchemaConformance, formatViolation } from '@keel/db';
 * const violations = await checkSchemaConformance(db);
 * violations.forEach((v) => console.error(formatViolation(v)));
 * ```
 */
export async function checkSchemaConformance(
  db: Kysely<unknown>,
  schema = 'public',
  options: {
    /**
     * Only these tables of `schema`: in `keel_jobs`, Keel's own outbox is
     * checked while the job queue's tables (pg-boss's, with its own
     * conventions) are not.
     */
    only?: readonly string[];
  } = {},
): Promise<Violation[]> {
  // Catalog introspection: pg_catalog is not part of the generated types.
  const tables = (
    await sql<{ table: string }>`
      select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p') and not c.relispartition
      order by 1`.execute(db)
  ).rows.map((r) => r.table);
  const columns = (
    await sql<ColumnRow>`
      select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
        t.typcategory = 'A' as is_array, a.attnotnull as not_null, pg_get_expr(d.adbin, d.adrelid) as default
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      join pg_type t on t.oid = a.atttypid
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where n.nspname = ${schema} and c.relkind in ('r', 'p') and not c.relispartition
        and a.attnum > 0 and not a.attisdropped
      order by c.relname, a.attnum`.execute(db)
  ).rows;
  const constraints = (
    await sql<ConstraintRow>`
      select c.relname as table, k.conname as name, k.contype as type,
        array(select a.attname from unnest(k.conkey) with ordinality u(attnum, i)
              join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.i)::text[] as columns,
        k.confdeltype as on_delete, k.confupdtype as on_update, pg_get_constraintdef(k.oid) as definition
      from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p') and not c.relispartition
      order by 1, 2`.execute(db)
  ).rows;
  const indexes = (
    await sql<IndexRow>`
      select t.relname as table, i.relname as name, x.indisunique as is_unique, x.indisprimary as is_primary,
        array(select a.attname from unnest(x.indkey) with ordinality u(attnum, i)
              join pg_attribute a on a.attrelid = x.indrelid and a.attnum = u.attnum order by u.i)::text[] as columns,
        pg_get_expr(x.indpred, x.indrelid) as predicate
      from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = ${schema} and t.relkind in ('r', 'p') and not t.relispartition
      order by 1, 2`.execute(db)
  ).rows;
  const triggers = (
    await sql<TriggerRow>`
      select c.relname as table, g.tgname as name, p.proname as function,
        (g.tgtype & 1) = 1 and (g.tgtype & 2) = 2 and (g.tgtype & 16) = 16 as is_before_update_row
      from pg_trigger g join pg_class c on c.oid = g.tgrelid join pg_namespace n on n.oid = c.relnamespace
      join pg_proc p on p.oid = g.tgfoid
      where n.nspname = ${schema} and not g.tgisinternal
      order by 1, 2`.execute(db)
  ).rows;
  const functions = (
    await sql<{ name: string }>`
      select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      left join pg_depend d on d.objid = p.oid and d.deptype = 'e'
      where n.nspname = ${schema} and d.objid is null order by 1`.execute(db)
  ).rows;

  const violations: Violation[] = [];
  const add = (v: Violation) => violations.push(v);

  for (const table of tables) {
    if (schema === migrationTableSchema) continue;
    if (options.only && !options.only.includes(table)) continue;
    const own = columns.filter((c) => c.table === table);
    const ownConstraints = constraints.filter((k) => k.table === table);
    const ownIndexes = indexes.filter((i) => i.table === table);
    checkTableNaming(table, add);
    checkStandardColumns(table, own, ownConstraints, triggers, add);
    for (const column of own) checkColumn(table, column, ownConstraints, add);
    checkForeignKeys(table, ownConstraints, ownIndexes, add);
    checkIndexes(table, ownIndexes, own, add);
    checkConstraintNames(table, ownConstraints, add);
  }
  for (const trigger of triggers) {
    if (!snakeCase.test(trigger.name)) {
      add({
        rule: 'naming.snake_case',
        table: trigger.table,
        object: trigger.name,
        message: 'trigger name is not snake_case',
      });
    }
  }
  for (const fn of functions) {
    if (!snakeCase.test(fn.name)) {
      add({
        rule: 'naming.snake_case',
        table: '(function)',
        object: fn.name,
        message: 'function name is not snake_case',
      });
    }
  }
  return violations;
}

type Add = (v: Violation) => void;

function checkTableNaming(table: string, add: Add): void {
  if (!snakeCase.test(table))
    add({ rule: 'naming.snake_case', table, message: 'table name is not snake_case' });
  if (!looksPlural(table))
    add({
      rule: 'naming.plural_table',
      table,
      message: 'table names are plural (users, order_items)',
    });
}

function checkStandardColumns(
  table: string,
  columns: ColumnRow[],
  constraints: ConstraintRow[],
  triggers: TriggerRow[],
  add: Add,
): void {
  const byName = new Map(columns.map((c) => [c.column, c]));
  const id = byName.get('id');
  const primaryKey = constraints.find((k) => k.type === 'p');
  if (id?.type !== 'uuid' || id.default !== 'uuidv7()') {
    add({ rule: 'columns.id', table, column: 'id', message: 'needs id uuid default uuidv7()' });
  }
  if (primaryKey?.columns.join(',') !== 'id') {
    add({ rule: 'columns.id', table, column: 'id', message: 'id must be the primary key' });
  }
  for (const name of ['created_at', 'updated_at']) {
    const column = byName.get(name);
    if (
      column?.type !== 'timestamp with time zone' ||
      !column.not_null ||
      column.default !== 'CURRENT_TIMESTAMP'
    ) {
      add({
        rule: `columns.${name}`,
        table,
        column: name,
        message: 'needs timestamptz not null default current_timestamp',
      });
    }
  }
  const deletedAt = byName.get('deleted_at');
  if (deletedAt?.type !== 'timestamp with time zone' || deletedAt.not_null) {
    add({
      rule: 'columns.deleted_at',
      table,
      column: 'deleted_at',
      message: 'needs a nullable deleted_at timestamptz (soft delete)',
    });
  }
  if (byName.has('updated_at')) {
    const trigger = triggers.find(
      (t) => t.table === table && t.function === 'set_updated_at' && t.is_before_update_row,
    );
    if (!trigger) {
      add({
        rule: 'columns.updated_at_trigger',
        table,
        column: 'updated_at',
        message: 'needs a BEFORE UPDATE FOR EACH ROW trigger calling set_updated_at()',
      });
    }
  }
}

function checkColumn(
  table: string,
  column: ColumnRow,
  constraints: ConstraintRow[],
  add: Add,
): void {
  const name = column.column;
  const at = { table, column: name };
  if (!snakeCase.test(name))
    add({ rule: 'naming.snake_case', ...at, message: 'column name is not snake_case' });
  const isCollection = column.is_array || column.type === 'jsonb';
  if (column.type !== 'boolean' && !isCollection && looksPlural(name)) {
    add({ rule: 'naming.singular_column', ...at, message: 'column names are singular' });
  }
  if (column.type === 'boolean' && !/^(is|has)_/.test(name)) {
    add({
      rule: 'naming.boolean_prefix',
      ...at,
      message: 'boolean columns start with is_ or has_',
    });
  }
  if (['real', 'double precision', 'money'].includes(column.type)) {
    add({
      rule: 'columns.no_float',
      ...at,
      message: `${column.type} is not allowed: money is integer cents`,
    });
  }
  if (
    column.type === 'timestamp without time zone' ||
    (name.endsWith('_at') && column.type !== 'timestamp with time zone')
  ) {
    add({ rule: 'columns.timestamptz', ...at, message: 'instants are timestamptz' });
  }
  const checked = constraints.some((k) => k.type === 'c' && k.columns.includes(name));
  if (name.endsWith('_cents')) {
    if (column.type !== 'bigint')
      add({ rule: 'columns.money_type', ...at, message: 'money in cents is bigint' });
    if (!checked)
      add({
        rule: 'constraints.money_check',
        ...at,
        message: 'money needs a CHECK constraint (e.g. >= 0)',
      });
  }
  if ((name === 'quantity' || name.endsWith('_quantity')) && !checked) {
    add({
      rule: 'constraints.quantity_check',
      ...at,
      message: 'quantities need a CHECK constraint',
    });
  }
  if (['status', 'role', 'currency'].includes(name) && !checked) {
    add({
      rule: 'constraints.allowed_values_check',
      ...at,
      message: 'needs a CHECK constraint listing the allowed values',
    });
  }
}

function checkForeignKeys(
  table: string,
  constraints: ConstraintRow[],
  indexes: IndexRow[],
  add: Add,
): void {
  for (const fk of constraints.filter((k) => k.type === 'f')) {
    for (const [which, action] of [
      ['ON DELETE', fk.on_delete],
      ['ON UPDATE', fk.on_update],
    ] as const) {
      if (!allowedFkActions.has(action)) {
        add({
          rule: 'constraints.fk_actions',
          table,
          column: fk.columns.join(','),
          message: `${fk.name} has ${which} ${actionNames[action] ?? action}; choose RESTRICT, CASCADE or SET NULL on purpose`,
        });
      }
    }
    const leading = indexes.some((i) => fk.columns.every((c, n) => i.columns[n] === c));
    if (!leading) {
      add({
        rule: 'constraints.fk_index',
        table,
        column: fk.columns.join(','),
        message: `foreign key ${fk.name} is not the leading column of any index`,
      });
    }
  }
}

function checkIndexes(table: string, indexes: IndexRow[], columns: ColumnRow[], add: Add): void {
  const softDeletable = columns.some((c) => c.column === 'deleted_at');
  for (const index of indexes) {
    if (
      !snakeCase.test(index.name) ||
      !index.name.startsWith(`${table}_`) ||
      !/_(idx|key|pkey)$/.test(index.name)
    ) {
      add({
        rule: 'naming.index_name',
        table,
        object: index.name,
        message: 'index names are <table>_<columns>_idx, _key (unique) or _pkey',
      });
    }
    if (
      index.is_unique &&
      !index.is_primary &&
      softDeletable &&
      !/deleted_at IS NULL/.test(index.predicate ?? '')
    ) {
      add({
        rule: 'constraints.natural_key_partial',
        table,
        object: index.name,
        message: 'unique keys on soft-deletable tables are partial: WHERE deleted_at IS NULL',
      });
    }
  }
}

const constraintSuffix: Record<string, string> = {
  p: 'pkey',
  f: 'fkey',
  u: 'key',
  c: 'check',
  x: 'excl',
};

function checkConstraintNames(table: string, constraints: ConstraintRow[], add: Add): void {
  for (const k of constraints) {
    const suffix = constraintSuffix[k.type];
    if (!suffix) continue;
    const expectedPrefix = `${table}_`;
    const ok =
      snakeCase.test(k.name) && k.name.startsWith(expectedPrefix) && k.name.endsWith(`_${suffix}`);
    if (!ok) {
      add({
        rule: 'naming.constraint_name',
        table,
        object: k.name,
        message: `constraint names are <table>_<columns>_${suffix}`,
      });
    }
  }
}
