// Configuration that arrives: `pnpm dev` (keel-node with --dotenv, then
// turbo, then the dev supervisor) hands the server both a variable of the
// real environment (CORS_ORIGINS) and one from .env (MAX_BATCH_SIZE=3), and
// Ctrl-C stops the embedded database through pg_ctl.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@keel/platform';
import { afterAll, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'keel-dev-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function batchOf(n: number): string {
  const paths = Array(n).fill('health.check').join(',');
  const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { json: null }]));
  return `/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
}

test('pnpm dev: CORS_ORIGINS and METRICS_PORT from the environment and MAX_BATCH_SIZE from .env all reach the server', async () => {
  const envFile = join(dir, '.env');
  writeFileSync(envFile, 'MAX_BATCH_SIZE=3\nCORS_ORIGINS=https://from-the-file.example\n');
  const port = await findFreePort();
  const metricsPort = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEEL_ENV_FILE: envFile,
    KEEL_SKIP_INSTALL: '1',
    CORS_ORIGINS: 'https://shop.example',
    KEEL_DATA_DIR: join(dir, 'pg'),
    KEEL_PG_PORT: String(await findFreePort()),
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  delete env.MAX_BATCH_SIZE;
  // What `pnpm dev` runs, for the server alone (the storefront's Vite is not needed here).
  const dev = spawn(
    process.execPath,
    [
      join(root, 'tooling', 'runtime', 'with-node.mjs'),
      '--dotenv',
      join(root, 'node_modules', '.bin', 'turbo'),
      'run',
      'dev',
      '--filter=@keel/server',
      '--ui=stream',
    ],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  dev.stdout.on('data', (c: Buffer) => (output += c.toString()));
  dev.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => dev.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 150_000;
    for (;;) {
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline || dev.exitCode !== null)
        throw new Error(`pnpm dev did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Only MAX_BATCH_SIZE came from the file; CORS_ORIGINS was already in the environment.
    expect(output).toContain(`keel: from ${envFile}: MAX_BATCH_SIZE\n`);

    // .env's MAX_BATCH_SIZE=3: three calls in one request are fine, four are refused.
    expect((await fetch(`${base}${batchOf(3)}`)).status).toBe(200);
    const four = await fetch(`${base}${batchOf(4)}`);
    expect(four.status).not.toBe(200);
    expect(await four.text()).toMatch(/batch/i);

    // The real environment's CORS_ORIGINS won over the file's.
    const preflight = (origin: string) =>
      fetch(`${base}/trpc/health.check`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const fromFile = await preflight('https://from-the-file.example');
    expect(fromFile.headers.get('access-control-allow-origin')).toBeNull();

    // METRICS_PORT: metrics labelled per procedure on that port, and only there.
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scrape).toMatch(
      /^keel_procedure_duration_seconds_count\{procedure="health.check",type="query",code="OK"\} [1-9]/m,
    );
    expect((await fetch(`${base}/metrics`)).status).toBe(404);

    // Ctrl-C reaches the whole process group, as a terminal's would.
    process.kill(-(dev.pid ?? 0), 'SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000)),
    ]);
    expect(code).not.toBe('timeout');
    expect(output).toContain('embedded PostgreSQL stopped (pg_ctl)');
  } finally {
    if (dev.exitCode === null) process.kill(-(dev.pid ?? 0), 'SIGKILL');
  }
}, 240_000);
