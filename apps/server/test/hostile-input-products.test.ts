// Hostile input against the products procedures, over raw HTTP (the property
// in ./hostile-input/inputs.ts), and products.create storing what it accepts
// byte for byte.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  candidateText,
  describeHostileInput,
  hasNul,
  length,
  outcomeOf,
  wellFormed,
} from './hostile-input/inputs';
import {
  adminClient,
  anonymousClient,
  db,
  fingerprint,
  record,
  stillServing,
} from './hostile-input/setup';

describeHostileInput('products');

describe('accepted strings are stored exactly as sent', () => {
  let skuCounter = 0;

  test('100 runs: products.create stores name and description byte for byte, and search finds the name literally', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        candidateText,
        fc.oneof(candidateText, fc.constant('')),
        async (name, description) => {
          const valid =
            !hasNul(name) &&
            wellFormed(name) &&
            length(name) >= 1 &&
            length(name) <= 200 &&
            name === name.trim() &&
            !hasNul(description) &&
            wellFormed(description);
          skuCounter += 1;
          const sku = `LIT-${String(skuCounter).padStart(5, '0')}`;
          const before = await fingerprint();
          const result = await outcomeOf(
            adminClient.products.create.mutate({ sku, name, description, priceCents: 1 }),
          );
          record('products.create', 'ok' in result ? 'OK' : (result.code ?? 'NO_CODE'));
          if (!('ok' in result)) {
            expect(result.code).toBe('BAD_REQUEST');
            expect(valid, JSON.stringify({ name, description })).toBe(false);
            expect(await fingerprint()).toEqual(before);
            return;
          }
          expect(valid, JSON.stringify({ name, description })).toBe(true);
          expect(result.ok.name).toBe(name);
          expect(result.ok.description).toBe(description);
          const read = await anonymousClient.products.byId.query({ id: result.ok.id });
          expect(read.name).toBe(name);
          expect(read.description).toBe(description);
          const row = await db
            .selectFrom('products')
            .select(['name', 'description'])
            .where('id', '=', result.ok.id)
            .executeTakeFirstOrThrow();
          expect(Buffer.from(row.name, 'utf8').equals(Buffer.from(name, 'utf8'))).toBe(true);
          expect(row.description).toBe(description);
          // A search needs 3 letters or digits (hardening.test.ts); with them,
          // the newest product is first and its own name, searched literally, finds it.
          if ((name.match(/[\p{L}\p{N}]/gu)?.length ?? 0) < 3) return;
          const found = await anonymousClient.products.list.query({ search: name, limit: 1 });
          expect(found.items.map((p) => p.id)).toEqual([result.ok.id]);
        },
      ),
      { numRuns: 100 },
    );
    await stillServing();
  });
});
