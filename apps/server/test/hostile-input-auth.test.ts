// Hostile input against the auth and users procedures, over raw HTTP (the
// property in ./hostile-input/inputs.ts); display names stored trimmed and
// NFC-normalised as documented; and passwords with unpaired surrogates.
import { randomUUID } from 'node:crypto';
import { createUser } from '@keel/platform/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  candidateText,
  describeHostileInput,
  hasNul,
  length,
  outcomeOf,
  padding,
  wellFormed,
} from './hostile-input/inputs';
import {
  anonymousClient,
  app,
  db,
  fingerprint,
  password,
  record,
  stillServing,
} from './hostile-input/setup';

/** What the display-name rule accepts: well-formed text, no NUL, control or bidi override, 1–100 characters once trimmed. */
function acceptedDisplayName(sent: string): boolean {
  const trimmed = sent.trim();
  return (
    !hasNul(sent) &&
    wellFormed(sent) &&
    !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(trimmed) &&
    length(trimmed) >= 1 &&
    length(trimmed) <= 100
  );
}

describeHostileInput('auth');

describe('accepted strings are stored exactly as sent', () => {
  test('100 runs: users.updateMe stores displayName trimmed and NFC-normalised (as documented), refusing control and bidi characters', {
    timeout: 120_000,
  }, async () => {
    const user = await createUser(db, { label: 'renamer' });
    const renamer = app.client(user.token);
    await fc.assert(
      fc.asyncProperty(padding, candidateText, padding, async (lead, core, trail) => {
        const sent = `${lead}${core}${trail}`;
        const trimmed = sent.trim();
        const stored = trimmed.normalize('NFC');
        const valid = acceptedDisplayName(sent);
        const before = await fingerprint();
        const result = await outcomeOf(renamer.users.updateMe.mutate({ displayName: sent }));
        record('users.updateMe', 'ok' in result ? 'OK' : (result.code ?? 'NO_CODE'));
        if (!('ok' in result)) {
          expect(result.code).toBe('BAD_REQUEST');
          expect(valid, JSON.stringify(sent)).toBe(false);
          expect(await fingerprint()).toEqual(before);
          return;
        }
        expect(valid, JSON.stringify(sent)).toBe(true);
        expect(result.ok.displayName).toBe(stored);
        expect((await renamer.auth.me.query()).displayName).toBe(stored);
        const row = await db
          .selectFrom('users')
          .select('display_name')
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow();
        expect(Buffer.from(row.display_name, 'utf8').equals(Buffer.from(stored, 'utf8'))).toBe(
          true,
        );
      }),
      { numRuns: 100 },
    );
    await stillServing();
  });

  test('15 runs: auth.register stores displayName trimmed and NFC-normalised, refusing control and bidi characters', {
    timeout: 120_000,
  }, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(padding, candidateText, async (lead, core) => {
        n += 1;
        const sent = `${lead}${core}`;
        const trimmed = sent.trim();
        const stored = trimmed.normalize('NFC');
        const valid = acceptedDisplayName(sent);
        const before = await fingerprint();
        const result = await outcomeOf(
          anonymousClient.auth.register.mutate({
            email: `literal-${n}-${randomUUID().slice(0, 8)}@example.com`,
            password,
            displayName: sent,
          }),
        );
        record('auth.register', 'ok' in result ? 'OK' : (result.code ?? 'NO_CODE'));
        if (!('ok' in result)) {
          expect(result.code).toBe('BAD_REQUEST');
          expect(valid, JSON.stringify(sent)).toBe(false);
          expect(await fingerprint()).toEqual(before);
          return;
        }
        expect(valid, JSON.stringify(sent)).toBe(true);
        expect(result.ok.user.displayName).toBe(stored);
        expect((await app.client(result.ok.token).auth.me.query()).displayName).toBe(stored);
      }),
      { numRuns: 15 },
    );
    await stillServing();
  });
});

describe('unpaired surrogates', () => {
  test('a password with an unpaired surrogate is refused, and cannot sign in as the account whose password has U+FFFD there', async () => {
    // Both reach scrypt as the same UTF-8 bytes (EF BF BD): two passwords, one hash.
    const email = `replacement-${randomUUID().slice(0, 8)}@example.com`;
    const real = 'twelve-chars-\ufffd';
    const impostor = 'twelve-chars-\ud800';
    const { token } = await anonymousClient.auth.register.mutate({
      email,
      password: real,
      displayName: 'Replacement',
    });
    expect(
      await outcomeOf(anonymousClient.auth.login.mutate({ email, password: impostor })),
    ).toEqual({ code: 'BAD_REQUEST' });
    const otherEmail = `surrogate-${randomUUID().slice(0, 8)}@example.com`;
    expect(
      await outcomeOf(
        anonymousClient.auth.register.mutate({
          email: otherEmail,
          password: impostor,
          displayName: 'Surrogate',
        }),
      ),
    ).toEqual({ code: 'BAD_REQUEST' });
    expect(
      await outcomeOf(
        app
          .client(token)
          .users.updateMe.mutate({ password: `${impostor}!`, currentPassword: real }),
      ),
    ).toEqual({ code: 'BAD_REQUEST' });
    // The real password still signs in.
    const signedIn = await anonymousClient.auth.login.mutate({ email, password: real });
    expect(signedIn.user.email).toBe(email);
  });
});
