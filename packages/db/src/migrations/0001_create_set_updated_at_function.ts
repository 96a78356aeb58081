import { type Kysely, sql } from 'kysely';

// The one trigger function every table's `BEFORE UPDATE` trigger calls
// (STANDARDS §3). Function DDL has no builder in Kysely, hence raw SQL.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function set_updated_at() returns trigger
    language plpgsql as $$
    begin
      new.updated_at := current_timestamp;
      return new;
    end;
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function set_updated_at()`.execute(db);
}
