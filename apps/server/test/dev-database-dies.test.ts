// `pnpm dev` notices when its embedded PostgreSQL dies, says so in one line
// and exits non-zero, instead of answering 503 forever.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@keel/platform';
import { afterAll, expect, test } from 'vitest';

const dataRoot = mkdtempSync(join(tmpdir(), 'keel-dev-dies-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

test('the postmaster killed under pnpm dev: one line, exit code 1, the API process gone', async () => {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEEL_DATA_DIR: join(dataRoot, 'pg'),
    KEEL_PG_PORT: String(await findFreePort()),
    PORT: String(await findFreePort()),
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  const dev = spawn(process.execPath, [tsx, join(import.meta.dirname, '..', 'src', 'dev.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  dev.stdout.on('data', (c: Buffer) => (output += c.toString()));
  dev.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => dev.once('exit', resolve));
  try {
    const deadline = Date.now() + 90_000;
    while (!/data in (\S+)/.test(output)) {
      if (Date.now() > deadline || dev.exitCode !== null)
        throw new Error(`dev did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const dataDir = /data in (\S+)/.exec(output)?.[1] ?? '';
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
    ]);
    expect(code).toBe(1);
    const lines = output.split('\n').filter((l) => l.includes('stopped unexpectedly'));
    expect(lines).toEqual([
      'embedded PostgreSQL stopped unexpectedly (signal SIGKILL); pnpm dev stops too, run it again',
    ]);
  } finally {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
}, 180_000);
