import { type Kysely, sql } from 'kysely';

/**
 * A sorted, textual description of everything in `schema` (tables, columns,
 * constraints, indexes, triggers, functions, extensions): two databases
 * with the same description have the same schema.
 *
 * @example
 * ```ts
 * import { describeSchema } from '@keel/db';
 * expect(await describeSchema(after)).toEqual(await describeSchema(before));
 * ```
 */
export async function describeSchema(db: Kysely<unknown>, schema = 'public'): Promise<string[]> {
  // Catalog introspection: pg_catalog is not part of the generated types.
  const { rows } = await sql<{ line: string }>`
    select 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
      || case when a.attnotnull then ' not null' else '' end
      || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as line
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v', 'm') and a.attnum > 0 and not a.attisdropped
    union all
    select 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema}
    union all
    select 'index ' || pg_get_indexdef(x.indexrelid)
    from pg_index x join pg_class t on t.oid = x.indrelid join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = ${schema}
    union all
    select 'trigger ' || pg_get_triggerdef(g.oid)
    from pg_trigger g join pg_class c on c.oid = g.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and not g.tgisinternal
    union all
    select 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(p.prosrc)
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = ${schema}
    union all
    select 'extension ' || e.extname from pg_extension e where e.extname <> 'plpgsql'
    union all
    select 'type ' || t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = ${schema} and t.typtype in ('e', 'd', 'c') and not exists
      (select 1 from pg_class c where c.reltype = t.oid)
    order by 1`.execute(db);
  return rows.map((r) => r.line);
}
