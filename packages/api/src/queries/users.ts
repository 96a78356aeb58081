import type { DB, Users } from '@keel/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { type KeysetSort, type Page, paginate } from '../pagination';
import type { SameType } from '../same-type';

/** A user's role, written out for the client's types; checked against the generated type below. */
export type UserRole = 'customer' | 'admin';
const rolesMatchTheSchema: SameType<UserRole, Selectable<Users>['role']> = true;
void rolesMatchTheSchema;

/** What the API returns for a user: never the password hash. */
export interface PublicUser {
  id: string;
  email: string;
  displayName: string;
  role: UserRole;
  isActive: boolean;
  createdAt: Date;
}

type Db = Kysely<DB> | Transaction<DB>;

export const userColumns = [
  'users.id',
  'users.email',
  'users.display_name as displayName',
  'users.role',
  'users.is_active as isActive',
  'users.created_at as createdAt',
] as const;

const byNewest = {
  name: 'users.newest',
  direction: 'desc',
  columns: [
    { ref: 'users.created_at', type: 'timestamptz' },
    { ref: 'users.id', type: 'uuid' },
  ],
} as const satisfies KeysetSort;

export function findUserById(db: Db, id: string): Promise<PublicUser | undefined> {
  return db
    .selectFrom('users')
    .select(userColumns)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** The live, active user with this email and their hash, for login only. */
export function findLoginUser(db: Db, email: string) {
  return db
    .selectFrom('users')
    .select([...userColumns, 'users.password_hash as passwordHash'])
    .where('email', '=', email)
    .where('deleted_at', 'is', null)
    .where('is_active', '=', true)
    .executeTakeFirst();
}

export function insertUser(
  db: Db,
  user: { email: string; displayName: string; passwordHash: string },
): Promise<PublicUser> {
  return db
    .insertInto('users')
    .values({ email: user.email, display_name: user.displayName, password_hash: user.passwordHash })
    .returning(userColumns)
    .executeTakeFirstOrThrow();
}

export function listUsers(
  db: Db,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<PublicUser>> {
  return paginate(
    db.selectFrom('users').select(userColumns).where('users.deleted_at', 'is', null),
    byNewest,
    page,
  );
}

export function updateUser(
  db: Db,
  id: string,
  changes: { displayName?: string | undefined; passwordHash?: string | undefined },
): Promise<PublicUser | undefined> {
  return db
    .updateTable('users')
    .set({
      ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
      ...(changes.passwordHash !== undefined ? { password_hash: changes.passwordHash } : {}),
      updated_at: sql`current_timestamp`,
    })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning(userColumns)
    .executeTakeFirst();
}

export async function softDeleteUser(db: Db, id: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ deleted_at: sql`current_timestamp` })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .execute();
}
