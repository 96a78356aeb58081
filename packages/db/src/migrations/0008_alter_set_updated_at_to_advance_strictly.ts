import { type Kysely, sql } from 'kysely';

// updated_at is the optimistic-concurrency token of products.update, which
// clients send back as a JS Date (millisecond precision). Two updates within
// the same millisecond would leave the token unchanged to a client; moving
// updated_at forward by at least 1 ms on every update makes each version
// distinct at that precision.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function set_updated_at() returns trigger
    language plpgsql as $$
    begin
      new.updated_at := greatest(current_timestamp, old.updated_at + interval '1 millisecond');
      return new;
    end;
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function set_updated_at() returns trigger
    language plpgsql as $$
    begin
      new.updated_at := current_timestamp;
      return new;
    end;
    $$`.execute(db);
}
