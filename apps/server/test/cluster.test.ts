// WEB_CONCURRENCY: the built bundle as a cluster of server processes sharing
// one port, its supervision (a killed worker is replaced, SIGTERM drains them
// all), and the connection budget it checks before forking.
import { spawn } from 'node:child_process';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { createDb } from '@keel/db';
import { findFreePort } from '@keel/platform';
import { createTestDatabase } from '@keel/platform/testing';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { restartPolicy } from '../src/cluster';
import { ConfigError, loadConfig } from '../src/config';
import { type ConnectionLimits, connectionBudget } from '../src/connection-budget';
import { buildServerBundle, type ServiceProcess, startServiceProcess } from './harness';

const testDb = await createTestDatabase();
const bundle = buildServerBundle();
let service: ServiceProcess | undefined;
afterAll(async () => {
  service?.kill();
  await testDb.destroy();
  bundle.remove();
});

/** A GET on a connection of its own (node:cluster hands out connections, not requests). */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** The JSON log lines the service wrote so far. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The pids in the request log lines of `path`, once `count` of them are written (logs flush within 0.5 s). */
async function servingPids(running: ServiceProcess, path: string, count: number) {
  let lines: Record<string, unknown>[] = [];
  await expect
    .poll(() => {
      lines = logLines(running.output()).filter((l) => l.msg === 'request' && l.path === path);
      return lines.length;
    })
    .toBeGreaterThanOrEqual(count);
  return lines.map((l) => l.pid as number);
}

/** Worker pids the primary reported listening and not yet dead. */
function liveWorkers(output: string): number[] {
  const lines = logLines(output);
  const dead = new Set(
    lines.filter((l) => l.msg === 'worker died; starting another').map((l) => l.worker),
  );
  return lines
    .filter((l) => l.msg === 'worker listening' && !dead.has(l.worker))
    .map((l) => l.worker as number);
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs the bundle to its exit (for starts that must be refused); its exit code and output. */
function runToExit(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle.main], {
      env: { ...process.env, PORT: '0', WEB_DIST_DIR: 'none', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`still running after ${timeoutMs} ms, where it should have stopped:\n${output}`),
      );
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('WEB_CONCURRENCY=2, the built bundle', () => {
  test('requests on new connections are served by two worker processes, not the primary; metrics sum both', async () => {
    const metricsPort = await findFreePort();
    service = await startServiceProcess([bundle.main], {
      DATABASE_URL: testDb.urls.app,
      NODE_ENV: 'production',
      WEB_CONCURRENCY: '2',
      DATABASE_POOL_MAX: '3',
      LOG_LEVEL: 'info',
      METRICS_PORT: String(metricsPort),
    });
    // /healthz answers as soon as the first worker listens; wait for the second.
    const started = service;
    await expect.poll(() => liveWorkers(started.output()).length, { timeout: 30_000 }).toBe(2);
    const statuses = [];
    for (let i = 0; i < 20; i += 1)
      statuses.push(await getOnNewConnection(`${service.base}/trpc/health.check`));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const pids = new Set(await servingPids(service, '/trpc/health.check', 20));
    expect(pids.size).toBe(2);
    expect(pids.has(service.pid)).toBe(false);
    expect([...pids].sort()).toEqual(liveWorkers(service.output()).sort());

    // The primary's listener asks every worker and adds their counts up.
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const calls = scrape
      .split('\n')
      .filter((l) => l.startsWith('keel_procedure_duration_seconds_count{procedure="health.check"'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(calls).toBe(20);
    expect(scrape).toContain('keel_db_pool_connections{pool="primary",state="max"} 6');
  }, 60_000);

  test('a worker that is killed is replaced, and requests go on being served by two workers', async () => {
    if (!service) throw new Error('the cluster of the first test did not start');
    const running = service;
    const [victim, survivor] = liveWorkers(running.output());
    if (victim === undefined || survivor === undefined) throw new Error('two workers expected');
    process.kill(victim, 'SIGKILL');
    // The primary logs the death, then the new worker's start (within 0.5 s each).
    await expect
      .poll(() => liveWorkers(running.output()).filter((pid) => pid !== victim).length, {
        timeout: 10_000,
      })
      .toBe(2);
    const workers = liveWorkers(running.output());
    expect(workers).toContain(survivor);
    expect(workers).not.toContain(victim);
    expect(isAlive(victim)).toBe(false);
    const died = logLines(running.output()).find((l) => l.msg === 'worker died; starting another');
    expect(died).toMatchObject({ worker: victim, signal: 'SIGKILL' });

    for (let i = 0; i < 10; i += 1)
      expect(await getOnNewConnection(`${running.base}/trpc/products.list`)).toBe(200);
    const pids = await servingPids(running, '/trpc/products.list', 10);
    expect(new Set(pids)).toEqual(new Set(workers));
  }, 30_000);

  test('SIGTERM: every worker drains and exits, then the primary exits 0', async () => {
    if (!service) throw new Error('the cluster of the first test did not start');
    const workers = liveWorkers(service.output());
    expect(workers).toHaveLength(2);
    const code = await service.stop();
    expect(code, service.output()).toBe(0);
    expect(workers.filter(isAlive)).toEqual([]);
    const lines = logLines(service.output());
    expect(lines.filter((l) => l.msg === 'shutdown complete').map((l) => l.pid)).toEqual(
      expect.arrayContaining(workers),
    );
    expect(lines.at(-1)).toMatchObject({ msg: 'all workers stopped', pid: service.pid });
  }, 30_000);
});

test('workers that die at every start (their port is taken) are restarted with growing waits, then the primary gives up with exit 1', async () => {
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => taken.once('listening', resolve));
  try {
    const started = performance.now();
    // Each start loads the whole server (0.3 s here when idle, several seconds when busy).
    const { code, output } = await runToExit(
      {
        DATABASE_URL: testDb.urls.app,
        WEB_CONCURRENCY: '2',
        PORT: String((taken.address() as AddressInfo).port),
      },
      80_000,
    );
    expect(code, output).toBe(1);
    const lines = logLines(output);
    const deaths = lines.filter((l) => l.msg === 'worker died; starting another');
    // Each of the two slots: four restarts after 250, 500, 1000, 2000 ms, then the fifth death ends it.
    expect(deaths.length).toBeLessThanOrEqual(2 * (restartPolicy.maxEarlyDeaths - 1));
    const waits = deaths.map((l) => l.restartInMs as number);
    expect(waits.filter((w) => w === restartPolicy.firstDelayMs * 8).length).toBeGreaterThan(0);
    expect(lines.some((l) => l.level === 60 && String(l.msg).includes('giving up'))).toBe(true);
    expect(performance.now() - started).toBeGreaterThan(3_750);
  } finally {
    taken.close();
  }
}, 90_000);

describe('the connection budget, checked before any worker starts', () => {
  test("a cluster whose pools exceed the database's connection limit is refused, naming the numbers and the settings", async () => {
    const small = await createTestDatabase();
    try {
      const superuser = createDb({ connectionString: small.urls.superuser, maxConnections: 1 });
      await sql`alter database ${sql.id(small.name)} connection limit 8`.execute(superuser);
      await superuser.destroy();
      const { code, output } = await runToExit({
        DATABASE_URL: small.urls.app,
        WEB_CONCURRENCY: '2',
        DATABASE_POOL_MAX: '5',
      });
      expect(code).toBe(2);
      expect(output).toContain(
        'WEB_CONCURRENCY=2 processes × DATABASE_POOL_MAX=5 = 10 connections',
      );
      expect(output).toContain(`the database ${small.name} (its CONNECTION LIMIT) allows 8`);
      expect(output).toContain(`ALTER DATABASE "${small.name}" CONNECTION LIMIT`);
      expect(output).not.toContain('worker listening');
    } finally {
      await small.destroy();
    }
  }, 30_000);

  test("one over the server's max_connections less its reserved slots is refused too", async () => {
    const { code, output } = await runToExit({
      DATABASE_URL: testDb.urls.app,
      WEB_CONCURRENCY: '2',
      DATABASE_POOL_MAX: '500',
    });
    expect(code).toBe(2);
    expect(output).toMatch(
      /= 1000 connections, but the server \(max_connections \d+ − superuser_reserved_connections \d+ − reserved_connections \d+\) allows \d+/,
    );
    expect(output).toContain('raise max_connections');
  }, 30_000);

  test('within every limit, but not beside the connections open now: a warning, not a refusal', () => {
    const limits: ConnectionLimits = {
      maxConnections: 100,
      superuserReserved: 3,
      reserved: 0,
      role: 'keel_app',
      roleLimit: 40,
      database: 'keel',
      databaseLimit: -1,
      open: { server: 10, role: 25, database: 25 },
    };
    expect(connectionBudget(limits, 4, 10)).toEqual({
      needed: 40,
      refusals: [],
      warnings: [
        'WEB_CONCURRENCY=4 processes × DATABASE_POOL_MAX=10 = 40 connections, and 25 are open already under the role keel_app (its CONNECTION LIMIT), which allows 40: under load some connections may be refused.',
      ],
    });
    expect(connectionBudget(limits, 5, 10).refusals).toEqual([
      'WEB_CONCURRENCY=5 processes × DATABASE_POOL_MAX=10 = 50 connections, but the role keel_app (its CONNECTION LIMIT) allows 40. Lower WEB_CONCURRENCY or DATABASE_POOL_MAX so their product is at most 40, or ALTER ROLE "keel_app" CONNECTION LIMIT ….',
    ]);
  });
});

describe('WEB_CONCURRENCY values', () => {
  const url = 'postgres://keel_app:pw@127.0.0.1:5432/keel';
  test('unset is 1 (no cluster); auto is one per core', () => {
    expect(loadConfig({ DATABASE_URL: url }).WEB_CONCURRENCY).toBe(1);
    expect(loadConfig({ DATABASE_URL: url, WEB_CONCURRENCY: 'auto' }).WEB_CONCURRENCY).toBe(
      availableParallelism(),
    );
    expect(loadConfig({ DATABASE_URL: url, WEB_CONCURRENCY: ' 3 ' }).WEB_CONCURRENCY).toBe(3);
  });

  test.each(['0', '-1', 'abc', '1.5', '', '100000'])(
    '"%s" is refused, naming the variable and what it takes',
    (value) => {
      let error: unknown;
      try {
        loadConfig({ DATABASE_URL: url, WEB_CONCURRENCY: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(
        `WEB_CONCURRENCY: must be a whole number of server processes from 1 to 256, or auto (one per core: ${availableParallelism()} here); not "${value.trim()}"`,
      );
    },
  );

  test('counting sign-in limits in memory is refused in a cluster: each worker would count alone', () => {
    expect(() =>
      loadConfig({ DATABASE_URL: url, WEB_CONCURRENCY: '2', RATE_LIMIT_STORE: 'memory' }),
    ).toThrow(/RATE_LIMIT_STORE: memory counts in one process, but WEB_CONCURRENCY runs 2/);
    expect(
      loadConfig({ DATABASE_URL: url, WEB_CONCURRENCY: '1', RATE_LIMIT_STORE: 'memory' })
        .RATE_LIMIT_STORE,
    ).toBe('memory');
  });

  test('the bundle stops at start (exit 2) on a bad value, before touching the database', async () => {
    const { code, output } = await runToExit({
      DATABASE_URL: testDb.urls.app,
      WEB_CONCURRENCY: 'abc',
    });
    expect(code).toBe(2);
    expect(output).toContain('WEB_CONCURRENCY: must be a whole number');
  }, 30_000);
});
