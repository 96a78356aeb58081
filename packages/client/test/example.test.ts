// `pnpm --filter @keel/client example` with no server at KEEL_URL says so in
// one line (and exits 1) instead of printing a stack trace.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect, test } from 'vitest';

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('no server at KEEL_URL: one line saying what to do, exit code 1', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/trpc`;
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const run = spawnSync(
    process.execPath,
    [tsx, join(import.meta.dirname, '..', 'examples', 'shop.ts')],
    { env: { ...process.env, KEEL_URL: url }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toEqual([
    `no Keel server answers at ${url}; start one with \`pnpm dev\` or set KEEL_URL`,
  ]);
});
