// Fixtures the API and server suites share: users with live session tokens,
// and products with unique SKUs. They write rows as keel_app does, through
// @keel/db's types only: the dev platform cannot depend on @keel/api, whose
// own tests depend on the platform.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type DB, hashPassword } from '@keel/db';
import type { Kysely } from 'kysely';

/** The password of every fixture user unless one is given. */
export const testPassword = 'correct-horse-battery';

/** A live user: the token is a real session's bearer token. */
export interface TestUser {
  id: string;
  email: string;
  displayName: string;
  role: 'customer' | 'admin';
  /** null: the user cannot sign in or prove a password (see createUser). */
  password: string | null;
  token: string;
}

// scrypt costs ~100 ms: one hash (its own salt) serves every user with the default password.
let testPasswordHash: Promise<string> | undefined;

/**
 * Inserts a user and a session, as `auth.register` would, and returns the
 * session's token (stored as its SHA-256, like the API's). An admin is a
 * user whose role is `admin`. The email is unique: `<label>-<random>@example.com`.
 */
export async function createUser(
  db: Kysely<DB>,
  options: {
    role?: 'customer' | 'admin';
    label?: string;
    /**
     * The password (default `testPassword`); null stores a hash that no
     * password matches, refused without running scrypt, for users that
     * only need their token and may be sent thousands of wrong passwords.
     */
    password?: string | null;
    sessionTtlMs?: number;
  } = {},
): Promise<TestUser> {
  const role = options.role ?? 'customer';
  const label = options.label ?? role;
  const password = options.password === undefined ? testPassword : options.password;
  testPasswordHash ??= hashPassword(testPassword);
  const passwordHash =
    password === null
      ? 'no-password'
      : password === testPassword
        ? await testPasswordHash
        : await hashPassword(password);
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const user = await db
    .insertInto('users')
    .values({ email, display_name: label, password_hash: passwordHash, role })
    .returning(['id', 'email', 'display_name as displayName', 'role'])
    .executeTakeFirstOrThrow();
  const token = randomBytes(32).toString('base64url');
  await db
    .insertInto('sessions')
    .values({
      user_id: user.id,
      token_hash: createHash('sha256').update(token).digest(),
      expires_at: new Date(Date.now() + (options.sessionTtlMs ?? 3_600_000)),
    })
    .execute();
  return { ...user, password, token };
}

/** The users most suites start from: a customer, a second customer, an admin. */
export async function seedUsers(
  db: Kysely<DB>,
): Promise<{ customer: TestUser; otherCustomer: TestUser; admin: TestUser }> {
  const [customer, otherCustomer, admin] = await Promise.all([
    createUser(db, { label: 'alice' }),
    createUser(db, { label: 'bob' }),
    createUser(db, { label: 'root', role: 'admin' }),
  ]);
  return { customer, otherCustomer, admin };
}

/** A product as the API returns it (`products.byId`): camelCase, explicit columns. */
export interface TestProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stockQuantity: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

let skuCounter = 0;

/** A SKU no other call in this process returns: `<prefix>-<random>-<n>`. */
export function uniqueSku(prefix = 'T'): string {
  skuCounter += 1;
  return `${prefix}-${randomBytes(3).toString('hex').toUpperCase()}-${skuCounter}`;
}

/**
 * Inserts a product (price 500, stock 100, a unique SKU, the schema's
 * defaults otherwise, unless given) and returns it in the API's shape.
 */
export function makeProduct(
  db: Kysely<DB>,
  overrides: Partial<
    Pick<
      TestProduct,
      'sku' | 'name' | 'description' | 'priceCents' | 'currency' | 'stockQuantity' | 'isActive'
    >
  > = {},
): Promise<TestProduct> {
  const sku = overrides.sku ?? uniqueSku();
  return db
    .insertInto('products')
    .values({
      sku,
      name: overrides.name ?? `Product ${sku}`,
      price_cents: overrides.priceCents ?? 500,
      stock_quantity: overrides.stockQuantity ?? 100,
      // The schema's defaults (empty description, USD, active) unless given.
      description: overrides.description,
      currency: overrides.currency,
      is_active: overrides.isActive,
    })
    .returning([
      'id',
      'sku',
      'name',
      'description',
      'price_cents as priceCents',
      'currency',
      'stock_quantity as stockQuantity',
      'is_active as isActive',
      'created_at as createdAt',
      'updated_at as updatedAt',
    ])
    .executeTakeFirstOrThrow();
}
