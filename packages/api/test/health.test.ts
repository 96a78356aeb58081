import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { appRouter } from '../src/root';
import { createCallerFactory } from '../src/trpc';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const caller = createCallerFactory(appRouter)(createInnerContext({ db: testDb.db }));

test('health.check reports that the database answers', async () => {
  expect(await caller.health.check()).toEqual({ database: 'ok' });
});
