// Shared input shapes: ids, money, currency, emails, passwords.
import { z } from 'zod';

/** A UUID, lower-cased: PostgreSQL returns ids in lower case, so comparisons in code match. */
export const id = z.uuid({ error: 'must be a UUID' }).transform((value) => value.toLowerCase());

/** Money in integer cents; the database caps it at 2^53 − 1. */
export const cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, { error: 'must be three upper-case letters' });

export const email = z
  .email({ error: 'must be an email address' })
  .max(254)
  .transform((value) => value.trim());

/**
 * Whether a string is well-formed UTF-16. A lone surrogate has no UTF-8 form:
 * node-postgres and scrypt would silently turn it into U+FFFD, so what is
 * stored (or hashed) would differ from what was sent, and two different
 * passwords would hash alike.
 */
export function isWellFormed(value: string): boolean {
  return !/\p{Cs}/u.test(value);
}
export const wellFormed = { error: 'must not contain unpaired surrogates (invalid Unicode)' };

export const password = z
  .string()
  .min(12, { error: 'must be at least 12 characters' })
  .max(200, { error: 'must be at most 200 characters' })
  .refine(isWellFormed, wellFormed);

export const displayName = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'must be at most 100 characters' })
  .refine(isWellFormed, wellFormed)
  .refine((value) => !value.includes('\u0000'), { error: 'must not contain NUL characters' });

/** Rejects text containing NUL, which PostgreSQL cannot store in text columns, or invalid Unicode. */
export function text(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !value.includes('\u0000'), { error: 'must not contain NUL characters' })
    .refine(isWellFormed, wellFormed);
}
