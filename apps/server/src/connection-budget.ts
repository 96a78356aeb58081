// WEB_CONCURRENCY multiplies the pool: N server processes may hold
// N × DATABASE_POOL_MAX connections at once. The primary checks that number
// against what PostgreSQL will let this role open before it forks anything,
// so a cluster too big for its database is refused at start with the numbers,
// not discovered later as "too many clients" under load.
import { createDb } from '@keel/db';
import { type Kysely, sql } from 'kysely';

/** The limits PostgreSQL puts on this role's connections, and what is open now. */
export interface ConnectionLimits {
  maxConnections: number;
  superuserReserved: number;
  /** `reserved_connections` (kept for roles granted pg_use_reserved_connections). */
  reserved: number;
  role: string;
  /** The role's CONNECTION LIMIT; −1 is none. */
  roleLimit: number;
  database: string;
  /** The database's CONNECTION LIMIT; −1 is none. */
  databaseLimit: number;
  /** Client connections open now besides the checking one: on the server, of this role, to this database. */
  open: { server: number; role: number; database: number };
}

/** Reads the limits over one short connection (the catalogue, so raw SQL). */
export async function readConnectionLimits(db: Kysely<unknown>): Promise<ConnectionLimits> {
  const { rows } = await sql<{
    max_connections: number;
    superuser_reserved: number;
    reserved: number;
    role: string;
    role_limit: number;
    database: string;
    database_limit: number;
    open_server: number;
    open_role: number;
    open_database: number;
  }>`
    with others as (
      select usename, datname from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid()
    )
    select
      current_setting('max_connections')::int as max_connections,
      current_setting('superuser_reserved_connections')::int as superuser_reserved,
      coalesce(current_setting('reserved_connections', true)::int, 0) as reserved,
      current_user::text as role,
      (select rolconnlimit from pg_roles where rolname = current_user) as role_limit,
      current_database()::text as database,
      (select datconnlimit from pg_database where datname = current_database()) as database_limit,
      (select count(*)::int from others) as open_server,
      (select count(*)::int from others where usename = current_user) as open_role,
      (select count(*)::int from others where datname = current_database()) as open_database
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('the connection-limit query returned no row');
  return {
    maxConnections: row.max_connections,
    superuserReserved: row.superuser_reserved,
    reserved: row.reserved,
    role: row.role,
    roleLimit: row.role_limit,
    database: row.database,
    databaseLimit: row.database_limit,
    open: { server: row.open_server, role: row.open_role, database: row.open_database },
  };
}

/** One limit on the connections: how many it allows, what is open under it, how to raise it. */
interface Limit {
  allows: number;
  open: number;
  what: string;
  raise: string;
}

/** A name as SQL writes it, quoted. */
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

function limitsOf(l: ConnectionLimits): Limit[] {
  const limits: Limit[] = [
    {
      allows: l.maxConnections - l.superuserReserved - l.reserved,
      open: l.open.server,
      what: `the server (max_connections ${l.maxConnections} − superuser_reserved_connections ${l.superuserReserved} − reserved_connections ${l.reserved})`,
      raise: 'raise max_connections in postgresql.conf (a restart)',
    },
  ];
  if (l.roleLimit >= 0)
    limits.push({
      allows: l.roleLimit,
      open: l.open.role,
      what: `the role ${l.role} (its CONNECTION LIMIT)`,
      raise: `ALTER ROLE ${quoted(l.role)} CONNECTION LIMIT …`,
    });
  if (l.databaseLimit >= 0)
    limits.push({
      allows: l.databaseLimit,
      open: l.open.database,
      what: `the database ${l.database} (its CONNECTION LIMIT)`,
      raise: `ALTER DATABASE ${quoted(l.database)} CONNECTION LIMIT …`,
    });
  return limits;
}

/** What the check found: refusals (the cluster can never fit) and warnings (it does not fit beside what is open now). */
export interface BudgetVerdict {
  needed: number;
  refusals: string[];
  warnings: string[];
}

/**
 * Compares `workers × poolMax` with each limit. Over a limit is a refusal;
 * within every limit but over one once the connections already open are
 * counted (other instances, migrations, a console) is a warning only: those
 * come and go, and a rolling deploy briefly runs the old instance beside the
 * new one.
 *
 * @example
 * ```ts
 * const verdict = connectionBudget(await readConnectionLimits(db), 4, 10);
 * if (verdict.refusals.length > 0) process.exit(2);
 * ```
 */
export function connectionBudget(
  limits: ConnectionLimits,
  workers: number,
  poolMax: number,
): BudgetVerdict {
  const needed = workers * poolMax;
  const asked = `WEB_CONCURRENCY=${workers} processes × DATABASE_POOL_MAX=${poolMax} = ${needed} connections`;
  const refusals: string[] = [];
  const warnings: string[] = [];
  for (const limit of limitsOf(limits)) {
    if (needed > limit.allows) {
      refusals.push(
        `${asked}, but ${limit.what} allows ${limit.allows}. Lower WEB_CONCURRENCY or DATABASE_POOL_MAX so their product is at most ${limit.allows}, or ${limit.raise}.`,
      );
    } else if (needed + limit.open > limit.allows) {
      warnings.push(
        `${asked}, and ${limit.open} are open already under ${limit.what}, which allows ${limit.allows}: under load some connections may be refused.`,
      );
    }
  }
  return { needed, refusals, warnings };
}

/**
 * Connects once as the service does and judges the cluster's budget; the
 * connection is closed before the workers start.
 */
export async function checkConnectionBudget(
  connectionString: string,
  workers: number,
  poolMax: number,
): Promise<BudgetVerdict & { limits: ConnectionLimits }> {
  const db = createDb<unknown>({
    connectionString,
    maxConnections: 1,
    applicationName: 'keel-budget-check',
  });
  try {
    const limits = await readConnectionLimits(db);
    return { ...connectionBudget(limits, workers, poolMax), limits };
  } finally {
    await db.destroy();
  }
}
