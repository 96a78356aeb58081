import { createHash, randomBytes } from 'node:crypto';
import { compileOnce, type DB } from '@keel/db';
import { type Kysely, sql, type Transaction } from 'kysely';

/** The signed-in user, as procedures see it. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  displayName: string;
  role: 'customer' | 'admin';
  sessionId: string;
}

type Db = Kysely<DB> | Transaction<DB>;

/** SHA-256 of a bearer token: the only form in which a token is stored. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A new random bearer token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

// Every signed-in request runs it: compiled once.
const sessionUserQuery = compileOnce(1, (db, tokenHash: Buffer) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'users.id',
      'users.email',
      'users.display_name as displayName',
      'users.role',
      'sessions.id as sessionId',
      'sessions.last_used_at as lastUsedAt',
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.deleted_at', 'is', null)
    .where('sessions.expires_at', '>', sql<Date>`current_timestamp`)
    .where('users.deleted_at', 'is', null)
    .where('users.is_active', '=', true),
);

/**
 * The live, active user behind a token, or null when the token is unknown,
 * revoked (soft-deleted session), expired, or belongs to a deleted or
 * deactivated user. One statement.
 */
export async function findSessionUser(db: Db, token: string): Promise<AuthenticatedUser | null> {
  const {
    rows: [row],
  } = await sessionUserQuery(db, hashToken(token));
  if (!row) return null;
  // Touch last_used_at at most once a minute, so reads do not write every time.
  if (Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db
      .updateTable('sessions')
      .set({ last_used_at: sql`current_timestamp` })
      .where('id', '=', row.sessionId)
      .execute();
  }
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    role: row.role === 'admin' ? 'admin' : 'customer',
    sessionId: row.sessionId,
  };
}

/** Starts a session for `userId` and returns its bearer token (shown once). */
export async function createSession(db: Db, userId: string, ttlMs: number): Promise<string> {
  const token = newToken();
  await db
    .insertInto('sessions')
    .values({
      user_id: userId,
      token_hash: hashToken(token),
      expires_at: new Date(Date.now() + ttlMs),
    })
    .execute();
  return token;
}

/** Revokes one session (soft delete). */
export async function revokeSession(db: Db, sessionId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ deleted_at: sql`current_timestamp` })
    .where('id', '=', sessionId)
    .where('deleted_at', 'is', null)
    .execute();
}

/** Revokes every live session of a user, optionally keeping one. */
export async function revokeUserSessions(
  db: Db,
  userId: string,
  keepSessionId?: string,
): Promise<void> {
  let query = db
    .updateTable('sessions')
    .set({ deleted_at: sql`current_timestamp` })
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null);
  if (keepSessionId) query = query.where('id', '<>', keepSessionId);
  await query.execute();
}
