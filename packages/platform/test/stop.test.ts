// The embedded server is stopped with `pg_ctl stop -m fast`, the way
// PostgreSQL documents for every platform, not with a signal from Node
// (which is a hard kill on Windows). Windows itself is not run here.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect, test } from 'vitest';
import { pgCtlStopArgs, startEmbeddedPostgres } from '../src/index';

test('pg_ctl is asked for a fast stop that waits until the server is down', () => {
  expect(pgCtlStopArgs('/data')).toEqual(['stop', '-D', '/data', '-m', 'fast', '-w', '-t', '30']);
});

test('stop() goes through pg_ctl: the server logs a fast shutdown and leaves no pid file', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'keel-stop-'));
  const lines: string[] = [];
  const server = await startEmbeddedPostgres({
    dataDir: join(parent, 'pg'),
    superuserPassword: 'stop-test',
    persistent: true,
    onLog: (line) => lines.push(line),
  });
  try {
    // A client in the middle of a transaction: a fast stop rolls it back instead of waiting.
    const client = new pg.Client({
      connectionString: server.url('postgres', 'stop-test', 'postgres'),
    });
    client.on('error', () => {});
    await client.connect();
    await client.query('begin');
    await client.query('select 1');

    expect(await server.stop()).toBe('pg_ctl');
    expect(existsSync(join(server.dataDir, 'postmaster.pid'))).toBe(false);
    expect(lines.join('')).toMatch(/server stopped/); // pg_ctl's own words
    const logDir = join(server.dataDir, 'log');
    const logs = await Promise.all(
      (await readdir(logDir)).map((file) => readFile(join(logDir, file), 'utf8')),
    );
    const text = logs.join('');
    expect(text).toContain('received fast shutdown request');
    expect(text).toContain('database system is shut down');
    // A second call is the same stop.
    expect(await server.stop()).toBe('pg_ctl');
  } finally {
    await server.stop();
    await rm(server.dataDir, { recursive: true, force: true });
    await rm(parent, { recursive: true, force: true });
  }
});
