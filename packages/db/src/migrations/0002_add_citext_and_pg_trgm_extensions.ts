import { type Kysely, sql } from 'kysely';

// citext: case-insensitive emails. pg_trgm: indexed "name contains" search.
// Both are trusted extensions, so keel_owner (the database owner) may create them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists citext`.execute(db);
  await sql`create extension if not exists pg_trgm`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop extension if exists pg_trgm`.execute(db);
  await sql`drop extension if exists citext`.execute(db);
}
