import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createKeelClient } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, expect, test } from 'vitest';

const testDb = await createTestDatabase();
const started: ChildProcess[] = [];
afterAll(async () => {
  // A failed test must not leave a server behind: SIGTERM lets tsx pass it on.
  for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
  await testDb.destroy();
});

/** Starts src/main.ts as its own process, as in production, and waits for its URL. */
async function startServerProcess(databaseUrl: string) {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const child = spawn(process.execPath, [tsx, join(import.meta.dirname, '..', 'src', 'main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      NODE_ENV: 'production',
      SHUTDOWN_TIMEOUT_MS: '10000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, url, exited, output: () => output };
}

test('SIGTERM during a slow request lets it finish, refuses new connections, and exits 0', async () => {
  const server = await startServerProcess(testDb.urls.app);
  const anonymous = createKeelClient({ url: `${server.url}/trpc` });
  const { token, user } = await anonymous.auth.register.mutate({
    email: 'shutdown@example.com',
    password: 'shutdown-password-1',
    displayName: 'Admin',
  });
  await testDb.db.updateTable('users').set({ role: 'admin' }).where('id', '=', user.id).execute();
  const admin = createKeelClient({ url: `${server.url}/trpc`, token });
  const product = await admin.products.create.mutate({
    sku: 'SLOW-1',
    name: 'Slow',
    priceCents: 100,
    stockQuantity: 1,
  });

  // Hold the product's row lock so the update below waits: a slow request in flight.
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const locked = testDb.db.transaction().execute(async (trx) => {
    await trx
      .selectFrom('products')
      .select('id')
      .where('id', '=', product.id)
      .forUpdate()
      .execute();
    await held;
  });
  await new Promise((r) => setTimeout(r, 100));
  const slow = admin.products.update.mutate({ id: product.id, name: 'Slow but finished' });
  await new Promise((r) => setTimeout(r, 300));

  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  release();
  await locked;

  const updated = await slow;
  expect(updated.name).toBe('Slow but finished');
  expect(await server.exited).toBe(0);
  expect(server.output()).toContain('shutdown complete');
  const stored = await testDb.db
    .selectFrom('products')
    .select('name')
    .where('id', '=', product.id)
    .executeTakeFirst();
  expect(stored?.name).toBe('Slow but finished');
});
