import { type Kysely, sql } from 'kysely';

/** The three roles every Keel database has (least privilege, docs/conventions.md). */
export const roleNames = {
  /** Owns the schema and runs migrations. */
  owner: 'keel_owner',
  /** What the service connects as: reads and writes rows, no DDL, no TRUNCATE. */
  app: 'keel_app',
  /** Reporting: SELECT only. */
  readonly: 'keel_readonly',
} as const;

/** Passwords for the three roles. */
export interface RolePasswords {
  owner: string;
  app: string;
  readonly: string;
}

/**
 * Server-side defaults for the service's role. They apply on every
 * connection without any session-level `SET`, so they also hold behind a
 * transaction-mode pooler such as PgBouncer.
 */
export const appRoleSettings = {
  statement_timeout: '15s',
  lock_timeout: '5s',
  idle_in_transaction_session_timeout: '30s',
} as const;

/**
 * Creates (or updates the passwords of) `keel_owner`, `keel_app` and
 * `keel_readonly`. Idempotent; run as a superuser or a role with CREATEROLE.
 *
 * @example
 * ```ts
 * import { ensureRoles } from '@keel/db';
 * await ensureRoles(superuserDb, { owner: 'o', app: 'a', readonly: 'r' });
 * ```
 */
export async function ensureRoles(admin: Kysely<unknown>, passwords: RolePasswords): Promise<void> {
  const wanted = [
    [roleNames.owner, passwords.owner],
    [roleNames.app, passwords.app],
    [roleNames.readonly, passwords.readonly],
  ] as const;
  for (const [name, password] of wanted) {
    const { rows } = await sql<{ exists: boolean }>`
      select exists (select 1 from pg_roles where rolname = ${name}) as exists`.execute(admin);
    // Role DDL cannot take bind parameters; sql.id / sql.lit quote and escape.
    const verb = rows[0]?.exists ? sql`alter role` : sql`create role`;
    await sql`${verb} ${sql.id(name)} with login nosuperuser nocreatedb nocreaterole noinherit password ${sql.lit(password)}`.execute(
      admin,
    );
  }
  for (const [setting, value] of Object.entries(appRoleSettings)) {
    await sql`alter role ${sql.id(roleNames.app)} set ${sql.raw(setting)} = ${sql.lit(value)}`.execute(
      admin,
    );
  }
  await sql`alter role ${sql.id(roleNames.readonly)} set default_transaction_read_only = on`.execute(
    admin,
  );
}

/**
 * Creates `database` owned by `keel_owner` unless it exists, optionally
 * cloned from `template`, and applies the database-level grants (which a
 * template does not carry over).
 */
export async function ensureDatabase(
  admin: Kysely<unknown>,
  database: string,
  template?: string,
): Promise<void> {
  const { rows } = await sql<{ exists: boolean }>`
    select exists (select 1 from pg_database where datname = ${database}) as exists`.execute(admin);
  if (!rows[0]?.exists) {
    const from = template ? sql`template ${sql.id(template)}` : sql``;
    await sql`create database ${sql.id(database)} owner ${sql.id(roleNames.owner)} ${from}`.execute(
      admin,
    );
  }
  await sql`revoke all on database ${sql.id(database)} from public`.execute(admin);
  await sql`grant connect on database ${sql.id(database)} to ${sql.id(roleNames.app)}, ${sql.id(roleNames.readonly)}`.execute(
    admin,
  );
}

/**
 * Inside one database (connected as a superuser or the owner): hands the
 * `public` schema to `keel_owner` and sets default privileges so every table
 * `keel_owner` creates later is readable and writable by `keel_app` and
 * readable by `keel_readonly`, with no per-migration grants.
 */
export async function applySchemaPrivileges(dbAsAdmin: Kysely<unknown>): Promise<void> {
  const owner = sql.id(roleNames.owner);
  const app = sql.id(roleNames.app);
  const readonly = sql.id(roleNames.readonly);
  const statements = [
    sql`alter schema public owner to ${owner}`,
    sql`revoke all on schema public from public`,
    sql`grant usage on schema public to ${app}, ${readonly}`,
    sql`alter default privileges for role ${owner} in schema public grant select, insert, update, delete on tables to ${app}`,
    sql`alter default privileges for role ${owner} in schema public grant select on tables to ${readonly}`,
    sql`alter default privileges for role ${owner} in schema public grant usage, select on sequences to ${app}`,
    sql`alter default privileges for role ${owner} in schema public grant select on sequences to ${readonly}`,
    sql`grant select, insert, update, delete on all tables in schema public to ${app}`,
    sql`grant select on all tables in schema public to ${readonly}`,
  ];
  for (const statement of statements) await statement.execute(dbAsAdmin);
}
