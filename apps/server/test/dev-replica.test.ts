// `KEEL_DEV_REPLICA=1 pnpm dev`: a real streaming replica of the embedded
// server serves the catalogue, and Ctrl-C stops the server, the replica and
// the primary, leaving no postgres behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@keel/platform';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';

const dataRoot = mkdtempSync(join(tmpdir(), 'keel-dev-replica-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('KEEL_DEV_REPLICA=1 pnpm dev streams to a replica, reads the catalogue there, and stops both', async () => {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEEL_DATA_DIR: join(dataRoot, 'pg'),
    KEEL_PG_PORT: String(await findFreePort()),
    KEEL_DEV_REPLICA: '1',
    PORT: String(port),
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.DATABASE_REPLICA_URL;
  const dev = spawn(process.execPath, [tsx, join(import.meta.dirname, '..', 'src', 'dev.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  dev.stdout.on('data', (c: Buffer) => (output += c.toString()));
  dev.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => dev.once('exit', resolve));
  const dataDirs: string[] = [];
  try {
    await expect
      .poll(() => output, { timeout: 120_000, interval: 200 })
      .toContain('catalogue reads go to the replica');
    const replicaDir = /streaming replica on \S+ \(TLS\), data in (\S+):/.exec(output)?.[1] ?? '';
    const replicaPort = Number(/streaming replica on [\d.]+:(\d+)/.exec(output)?.[1]);
    const primaryDir =
      /embedded PostgreSQL 18 on \S+ \(TLS\), data in (\S+)/.exec(output)?.[1] ?? '';
    // As root, data directories the postgres OS user cannot reach move under /var/tmp.
    dataDirs.push(primaryDir, replicaDir);
    const pids = [primaryDir, replicaDir].map((dir) =>
      Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    );

    // The replica is a hot standby of the seeded database, as keel_app.
    const replica = new pg.Client({
      connectionString: `postgres://keel_app:keel_app_dev@127.0.0.1:${replicaPort}/keel?sslmode=verify-full&sslrootcert=${join(replicaDir, 'server.crt')}`,
    });
    await replica.connect();
    const { rows } = await replica.query(
      'select pg_is_in_recovery() as standby, count(*)::int as products from products',
    );
    await replica.end();
    expect(rows[0]).toEqual({ standby: true, products: 300 });
    const page = await fetch(`http://127.0.0.1:${port}/api/products?limit=2`);
    expect(page.status).toBe(200);

    dev.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('embedded PostgreSQL stopped (pg_ctl), replica first');
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(join(replicaDir, 'postmaster.pid'))).toBe(false);
  } finally {
    if (dev.exitCode === null) dev.kill('SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}, 240_000);
