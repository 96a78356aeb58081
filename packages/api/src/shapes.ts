// Shared input shapes: ids, money, currency, emails, passwords.
import { TRPCError } from '@trpc/server';
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

/**
 * Twelve-character passwords people pick most often (lower case; compared
 * case-insensitively). A short local list: no network, nothing to update.
 */
const commonPasswords = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '111111111111',
  '000000000000',
  'password1234',
  'password12345',
  'password123456',
  'password!234',
  'passwordpassword',
  'p@ssword1234',
  'p@ssw0rd1234',
  'qwerty123456',
  'qwertyuiop12',
  'qwertyuiopasdf',
  '1q2w3e4r5t6y',
  'zaq12wsxcde3',
  'abcdefghijkl',
  'abc123abc123',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'admin1234567',
  'administrator',
  'football1234',
  'baseball1234',
  'princess1234',
  'sunshine1234',
  'monkey123456',
  'dragon123456',
  'trustno1trustno1',
  'changeme1234',
  'masterkey123',
  'superman1234',
  'starwars1234',
]);

/**
 * Why a password is too easy to guess, or null. Plain rules a person
 * understands: not one of the most common passwords, more than a few
 * different characters, and not built from the account's email.
 */
export function weakPasswordReason(value: string, email?: string): string | null {
  const lower = value.toLowerCase();
  if (commonPasswords.has(lower)) return 'is one of the most common passwords; choose another';
  if (new Set(lower).size < 5) return 'must use at least 5 different characters';
  return email ? passwordEmailReason(value, email) : null;
}

/**
 * 'must not be your email address' when the password holds the whole
 * address, or is its name part with only digits or symbols added
 * (`margarethe2026!`).
 */
export function passwordEmailReason(value: string, email: string): string | null {
  const lower = value.toLowerCase();
  const address = email.trim().toLowerCase();
  const local = address.split('@')[0] ?? '';
  if (!address.includes('@')) return null; // not an address: the email field says so
  const stem = (text: string) => text.replace(/[^\p{L}]+$/u, '');
  return lower.includes(address) || (local.length >= 3 && stem(lower) === stem(local))
    ? 'must not be your email address or its name with digits added'
    : null;
}

export const password = z
  .string()
  .min(12, { error: 'must be at least 12 characters' })
  .max(200, { error: 'must be at most 200 characters' })
  .refine(isWellFormed, wellFormed)
  .superRefine((value, ctx) => {
    const reason = weakPasswordReason(value);
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });

/** Control characters (C0, DEL, C1) and the bidirectional overrides and isolates. */
const controlOrBidi = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export const displayName = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'must be at most 100 characters' })
  .refine(isWellFormed, wellFormed)
  .refine((value) => !controlOrBidi.test(value), {
    error: 'must not contain control characters or bidirectional overrides',
  })
  // One canonical form, so "é" typed two ways is the same name.
  .transform((value) => value.normalize('NFC'));

/**
 * A BAD_REQUEST on one input field, shaped like zod's so forms show it
 * beside the field (`keelFieldErrors`).
 */
export function fieldError(field: string, message: string): TRPCError {
  // Made by zod itself: a hand-built ZodError is not an Error, and tRPC would drop it.
  const refused = z
    .object({})
    .superRefine((_, ctx) => ctx.addIssue({ code: 'custom', path: [field], message }))
    .safeParse({});
  return new TRPCError({
    code: 'BAD_REQUEST',
    message: `invalid input: ${field}: ${message}`,
    cause: refused.error,
  });
}

/** Rejects text containing NUL, which PostgreSQL cannot store in text columns, or invalid Unicode. */
export function text(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !value.includes('\u0000'), { error: 'must not contain NUL characters' })
    .refine(isWellFormed, wellFormed);
}

/** Luhn's checksum, which every card number carries in its last digit. */
function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A card as typed: spaces and dashes in the number are dropped, then it must
 * be 12–19 digits with a valid check digit. The number is passed to the
 * payment provider and never stored; only its last four digits are.
 */
export const card = z.object({
  number: z
    .string()
    .max(40)
    .transform((value) => value.replace(/[\s-]/g, ''))
    .pipe(
      z
        .string()
        .regex(/^[0-9]{12,19}$/, { error: 'must be 12–19 digits' })
        .refine(passesLuhn, { error: 'is not a valid card number (check digit)' }),
    ),
  expiryMonth: z.number().int().min(1).max(12),
  expiryYear: z.number().int().min(2000).max(2100),
  cvc: z.string().regex(/^[0-9]{3,4}$/, { error: 'must be 3 or 4 digits' }),
});
